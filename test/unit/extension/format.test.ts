import assert from 'node:assert/strict';
import { DEFAULT_LENS_FORMAT, compileLensFormat, endpointSummary, lensTooltip, statusText, statusTooltip } from '../../../extension/core/format';
import { AgentStore } from '../../../extension/core/store';
import { plainText } from '../../../extension/core/text';
import type { EndpointStats, HealthReport, LatencySummary, Snapshot } from '../../../protocol';
import { endpoint } from './helpers';

const few = (count: number): LatencySummary => ({ count, errors: 0, aborted: 0, min: 60, avg: 70, max: 80, p50: 70, p95: 80, p99: 80 });

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

  it('a percentile its requests cannot tell apart is a dash, and the tooltip says why (p95 = p99 from the same few requests)', () => {
    const e = endpoint({ ...few(4), windows: { '1m': few(4), '5m': few(4), all: few(4) } });
    assert.equal(compileLensFormat()(e), 'GET /users/:id · p95 — · p99 — · 4 req · 0% err');
    assert.equal(compileLensFormat('{p50} {p95_1m} {count_1m}')(e), '— — 4');
    assert.equal(compileLensFormat('{p50} {p95} {p99}')(endpoint({ ...few(30) })), '70 ms 80 ms —');
    const tip = lensTooltip(e, false);
    assert.match(tip, /^4 requests since start \(rate: last minute\)\./);
    assert.match(tip, /p50 needs 5 requests since start; 4 so far\./);
    assert.match(tip, /p95 needs 20 requests since start; 4 so far\./);
    assert.match(tip, /p99 needs 100 requests since start; 4 so far\./);
    assert.doesNotMatch(lensTooltip(endpoint(), true), /needs/, 'nothing to explain with 1.2k requests');
    assert.deepEqual(endpointSummary(e), { description: 'p95 — · 4 req', tooltip: '4 requests since start. p95 needs 20 requests since start; 4 so far.' });
    assert.deepEqual(endpointSummary(endpoint()).description, 'p95 42 ms · 1.2k req');
  });

  it('statusText shows app, req/s with its window, the worst p95 of the last minute among routes with enough requests, and health', () => {
    const system = { requestsPerSecond: 12 } as never;
    const health: HealthReport = { status: 'degraded', score: 70, reasons: [] };
    // A route with 3 requests in the minute at 900 ms has no p95: the worst shown is 42 ms.
    const eps = [endpoint(), endpoint({ id: 'b', windows: { '1m': { ...few(3), p95: 900 }, '5m': few(3), all: few(3) } })];
    assert.equal(statusText('shop', system, eps, health), 'shop · 12/s (1m) · p95 42 ms (1m) · degraded');
    assert.equal(statusText('shop', system, eps, health, 600), 'shop · 600/s now · p95 42 ms (1m) · degraded');
    assert.equal(statusText('shop', system, eps.slice(1), health, 0), 'shop · 0/s now · p95 — (1m) · degraded');
    const tip = statusTooltip('shop', 42, { requestsPerSecond: 12, errorRate: 0.01 } as never, eps, 600);
    assert.match(tip, /Requests\/s now \(5 s\): 600\/s; last minute: 12\/s/);
    assert.match(tip, /Worst p95, last minute: 42 ms \(GET \/users\/:id, 1\.2k requests\)/);
    assert.match(statusTooltip('shop', 42, undefined, eps.slice(1)), /Worst p95, last minute: — \(no route has the 20 requests a p95 needs\)/);
  });

  it('the status bar rate follows a ramp: from 0 to 600 req/s it reads 600 within a few seconds of reaching it', () => {
    // The store of one agent, fed a snapshot and deltas every 250 ms, as the client does.
    const T0 = 1_700_000_000_000;
    const store = new AgentStore();
    const route = (count: number): EndpointStats => endpoint({ ...few(count), count, windows: { '1m': few(count), '5m': few(count), all: few(count) } });
    const system = (t: number) => ({ requestsPerSecond: 0, errorRate: 0, time: t }) as never;
    store.setSnapshot({ agent: { pid: 1, startedAt: T0 }, time: T0, endpoints: [route(0)], system: system(T0), slowRequests: [] } as unknown as Snapshot, 0);
    let total = 0;
    let seq = 0;
    const rateAt = (s: number) => (s < 10 ? (s / 10) * 600 : 600); // a 10 s ramp, then steady
    const readings: string[] = [];
    for (let t = 250; t <= 20_000; t += 250) {
      total += (rateAt((t - 250) / 1000) * 250) / 1000;
      store.applyDelta({ time: T0 + t, endpoints: [route(Math.round(total))] }, ++seq);
      if (t % 1000 === 0) readings.push(statusText('shop', system(T0 + t), store.snapshot!.endpoints, undefined, store.nowRate));
    }
    assert.match(readings[0]!, /^shop · \d+\/s now/);
    for (const text of readings.slice(16)) assert.match(text, /^shop · 600\/s now · /);
  });
});
