import assert from 'node:assert/strict';
import { escapeLabel, renderMetrics } from '../../../agent/server/prometheus';
import { endpoint, FakeHost } from '../../support/fake-host';

describe('server prometheus', () => {
  it('escapeLabel escapes backslash, double quote and newline', () => {
    assert.equal(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  });

  it('renderMetrics groups each family under one HELP/TYPE and ends with a newline', () => {
    const host = new FakeHost();
    host.endpoints = [endpoint('GET', '/x', 4, 100), endpoint('GET', '/y\n', 2, 10)];
    const text = renderMetrics(host.snapshot());
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
    assert.equal(new Set(types).size, types.length, 'no family declared twice');
    assert.ok(text.endsWith('\n'));
    assert.match(text, /^routelens_http_request_duration_seconds_sum\{method="GET",route="\/x"\} 0\.1$/m);
    assert.match(text, /route="\/y\\n"/);
    assert.doesNotMatch(text, /routelens_cache_hits_total/, 'no cache series without a cache');
  });
});
