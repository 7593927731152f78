/** The statistics of a verdict: the p95 change's interval from two sketches, and what it is called. */
import assert from 'node:assert/strict';
import { MIN_EFFECT, MIN_REQUESTS, type Side, compareSides, quantileInterval, verdict } from '../../../agent/history/compare';
import { newSketch } from '../../../agent/metrics/sketch';
import { seededRandom } from '../../support/random';

/** n latencies (ms), log-normal around `median` with a long right tail, times `factor`. */
function side(n: number, seed: number, factor = 1, median = 20): Side {
  const r = seededRandom(seed);
  const s = newSketch();
  for (let i = 0; i < n; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    s.accept(factor * median * Math.exp(0.5 * z));
  }
  return { count: n, sketch: s };
}

describe('baseline comparison statistics', () => {
  it('A/A: two samples of the same app are never called regressed or improved (100 pairs)', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= 100; seed++) {
      const d = compareSides('GET /a', side(1000, seed), side(1000, seed + 1000));
      seen.add(d.verdict);
      assert.ok(d.verdict === 'unchanged' || d.verdict === 'inconclusive', `seed ${seed}: ${JSON.stringify(d)}`);
    }
    assert.ok(seen.has('unchanged'));
  });

  it('a 2× slowdown is regressed, with an interval around +100 %', () => {
    const d = compareSides('GET /slow', side(1000, 1), side(1000, 2, 2));
    assert.equal(d.verdict, 'regressed');
    assert.ok(d.change > 0.8 && d.change < 1.2, `change ${d.change}`);
    assert.ok(d.low > 0.5 && d.high < 1.6, `[${d.low}, ${d.high}]`);
    assert.ok(d.head > 1.8 * d.base);
    assert.equal(d.baseCount, 1000);
    assert.equal(d.headCount, 1000);
  });

  it('twice as fast is improved', () => {
    assert.equal(compareSides('GET /a', side(1000, 3), side(1000, 4, 0.5)).verdict, 'improved');
  });

  it(`is inconclusive with fewer than ${MIN_REQUESTS} requests on either side, even for a 2× slowdown`, () => {
    assert.equal(compareSides('GET /a', side(MIN_REQUESTS - 1, 5), side(1000, 6, 2)).verdict, 'inconclusive');
    assert.equal(compareSides('GET /a', side(1000, 5), side(MIN_REQUESTS - 1, 6, 2)).verdict, 'inconclusive');
    const missing = compareSides('GET /a', undefined, side(1000, 6));
    assert.equal(missing.verdict, 'inconclusive');
    assert.equal(missing.baseCount, 0);
    assert.ok(missing.head > 0);
  });

  it('a real change smaller than the minimum effect is unchanged', () => {
    const d = compareSides('GET /a', side(50_000, 7), side(50_000, 8, 1.04));
    assert.ok(d.low > 0, `[${d.low}, ${d.high}]`);
    assert.equal(d.verdict, 'unchanged');
  });

  it('a small sample with a wide interval is inconclusive, not unchanged', () => {
    const d = compareSides('GET /a', side(60, 9), side(60, 10, 1.1));
    assert.ok(d.high - d.low > 2 * MIN_EFFECT);
    assert.equal(d.verdict, 'inconclusive');
  });

  it('the interval of a quantile narrows as the sample grows', () => {
    const small = quantileInterval(side(100, 11).sketch, 0.95, 100)!;
    const large = quantileInterval(side(10_000, 11).sketch, 0.95, 10_000)!;
    assert.ok(small.high / small.low > large.high / large.low);
    assert.ok(large.low <= large.value && large.value <= large.high);
  });

  it('verdict: the interval against the band ±minimum effect', () => {
    assert.equal(verdict(0.3, 0.7, 0.1), 'regressed');
    assert.equal(verdict(0.1, 0.7, 0.1), 'regressed');
    assert.equal(verdict(-0.7, -0.3, 0.1), 'improved');
    assert.equal(verdict(0.01, 0.09, 0.1), 'unchanged', 'real but smaller than worth flagging');
    assert.equal(verdict(-0.05, 0.08, 0.1), 'unchanged');
    assert.equal(verdict(0.05, 0.3, 0.1), 'inconclusive', 'excludes 0 but may be below the minimum effect');
    assert.equal(verdict(-0.2, 0.3, 0.1), 'inconclusive');
  });
});
