import assert from 'node:assert/strict';
import { DEFAULT_LENS_FORMAT, compileLensFormat, formatBytes, formatCount, formatMs, formatPercent, statusText } from '../../../extension/core/format';
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

  it('numbers', () => {
    assert.deepEqual([formatMs(0.42), formatMs(4.25), formatMs(42.4), formatMs(1234), formatMs(12_345)], ['0.4 ms', '4.3 ms', '42 ms', '1.2 s', '12 s']);
    assert.deepEqual([formatCount(999), formatCount(1234), formatCount(12_345), formatCount(2_500_000)], ['999', '1.2k', '12k', '2.5M']);
    assert.deepEqual([formatPercent(0), formatPercent(0.004), formatPercent(0.25)], ['0%', '0.4%', '25%']);
    assert.deepEqual([formatBytes(512), formatBytes(1536), formatBytes(50 * 1024 * 1024)], ['512 B', '1.5 KiB', '50 MiB']);
  });

  it('statusText shows app, req/s, worst p95 and health', () => {
    const system = { requestsPerSecond: 12 } as never;
    assert.equal(statusText('shop', system, [endpoint(), endpoint({ id: 'b', p95: 10, windows: undefined as never })], { status: 'degraded', score: 70, reasons: [] }), 'shop · 12/s · p95 42 ms · degraded');
  });
});
