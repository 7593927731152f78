import assert from 'node:assert/strict';
import { NOW_WINDOW_MS } from '../../protocol/format';
import { NowRate, requestTotal } from '../../protocol/rate';
import type { EndpointStats } from '../../protocol/types';

/**
 * Feeds a meter the totals a client sees every `stepMs` while the traffic follows
 * `rateAt(seconds)` (requests per second), as deltas arrive every 250 ms.
 */
function run(rateAt: (s: number) => number, seconds: number, meter = new NowRate(), stepMs = 250): { meter: NowRate; readings: Map<number, number | undefined>; lastMinute: number } {
  const readings = new Map<number, number | undefined>();
  const t0 = 1_700_000_000_000;
  let total = 0;
  const perSecond: number[] = [];
  for (let t = 0; t <= seconds * 1000; t += stepMs) {
    if (t > 0) total += (rateAt((t - stepMs) / 1000) * stepMs) / 1000;
    if (t % 1000 === 0) perSecond.push(total);
    meter.add(t0 + t, total);
    if (t % 1000 === 0) readings.set(t / 1000, meter.perSecond());
  }
  // What a one-minute average (the agent's figure) reads at the end.
  const minuteAgo = perSecond[Math.max(0, perSecond.length - 61)]!;
  return { meter, readings, lastMinute: (total - minuteAgo) / Math.min(60, perSecond.length - 1) };
}

describe('NowRate: requests per second over the last few seconds, from successive totals', () => {
  it('a ramp from 0 to 600 req/s reads 600 within a few seconds of reaching it, while the minute average still lags', () => {
    // Idle for 30 s, a 20 s ramp to 600 req/s, then steady.
    const rate = (s: number) => (s < 30 ? 0 : s < 50 ? ((s - 30) / 20) * 600 : 600);
    const { readings, lastMinute } = run(rate, 60);
    const reached = 50 + NOW_WINDOW_MS / 1000 + 1;
    for (let s = reached; s <= 60; s++) assert.ok(Math.abs(readings.get(s)! - 600) < 1, `at ${s} s: ${readings.get(s)}`);
    assert.ok(lastMinute < 400, `the minute average reads ${lastMinute}, the point of a "now" rate`);
    assert.ok(readings.get(10) === 0, 'idle reads 0');
  });

  it('a step from 0 to 800 req/s reads 800 after the window has passed, and follows a drop back to 0', () => {
    const { readings } = run((s) => (s >= 10 && s < 30 ? 800 : 0), 40);
    assert.ok(readings.get(12)! > 0 && readings.get(12)! < 800, 'partway while the window still holds idle seconds');
    assert.equal(Math.round(readings.get(16)!), 800);
    assert.equal(Math.round(readings.get(29)!), 800);
    assert.equal(readings.get(36), 0);
  });

  it('is unknown until the totals span a second, and starts over after a reset (a lower total) or time going back', () => {
    const m = new NowRate();
    assert.equal(m.perSecond(), undefined);
    m.add(1000, 10);
    m.add(1500, 20);
    assert.equal(m.perSecond(), undefined, 'half a second is not enough');
    m.add(2000, 30);
    assert.equal(m.perSecond(), 20);
    m.add(2500, 5); // reset
    assert.equal(m.perSecond(), undefined);
    m.add(3500, 105);
    assert.equal(m.perSecond(), 100);
    m.add(3000, 200); // clock went back
    assert.equal(m.perSecond(), undefined);
    m.add(4000, 210);
    m.add(4000, 260); // same time: replaces
    assert.equal(m.perSecond(), 60);
  });

  it('requestTotal counts HTTP endpoints, not custom timings', () => {
    const e = (kind: EndpointStats['kind'], count: number) => ({ kind, count }) as EndpointStats;
    assert.equal(requestTotal([e('route', 5), e('unmatched', 2), e('overflow', 1), e('custom', 100)]), 8);
  });
});
