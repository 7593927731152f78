import assert from 'node:assert/strict';
import { DEFAULT_LENS_FORMAT, compileLensFormat, statusText } from '../../../extension/core/format';
import { plainText } from '../../../extension/core/text';
import { endpoint } from './helpers';

describe('extension formatting', () => {
  it('formats the default lens title like the spec', () => {
    assert.equal(compileLensFormat()(endpoint()), 'GET /users/:id · p95 42 ms · p99 80 ms · 1.2k req · 0.4% err');
  });

  it('shows dashes, not zeros, for percentiles of a route with no requests', () => {
    assert.equal(compileLensFormat(DEFAULT_LENS_FORMAT)(endpoint({ count: 0, errors: 0 })), 'GET /users/:id · p95 — · p99 — · 0 req · 0% err');
  });

  it('honours a custom format; unknown placeholders stay visible', () => {
    assert.equal(compileLensFormat('{route}: {p50}/{max} {rate} {bogus}')(endpoint()), '/users/:id: 18 ms/120 ms 2/s {bogus}');
  });

  it('lens text is plain: control/bidi characters removed, codicon syntax defused, length bounded', () => {
    const title = compileLensFormat('{route}')(endpoint({ route: '/a\u202e$(alert)\n<img src=x onerror=alert(1)>' + 'x'.repeat(500) }));
    assert.ok(!/[\u202e\n]/.test(title));
    assert.ok(!title.includes('$('));
    assert.ok(title.length <= 300);
    assert.equal(plainText('a\u2066b\u0000c'), 'a b c');
  });

  it('statusText shows app, req/s, worst p95 and health', () => {
    const system = { requestsPerSecond: 12 } as never;
    assert.equal(statusText('shop', system, [endpoint(), endpoint({ id: 'b', p95: 10, windows: undefined as never })], { status: 'degraded', score: 70, reasons: [] }), 'shop · 12/s · p95 42 ms · degraded');
  });
});
