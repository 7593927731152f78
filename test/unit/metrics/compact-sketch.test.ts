/**
 * agent/metrics/sketch.ts's compact Sketch against the sketches-js LogCollapsingLowestDenseDDSketch it replaces:
 * the same counts, sums, extremes, bins and quantiles for every input the agent can produce, in far less memory.
 */
import assert from 'node:assert/strict';
import { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import { SKETCH_BIN_LIMIT, type Sketch, newSketch, sketchBins } from '../../../agent/metrics/sketch';
import { seededRandom } from '../../support/random';

type Reference = LogCollapsingLowestDenseDDSketch;
const reference = (): Reference => new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: 0.01, binLimit: SKETCH_BIN_LIMIT });
const QS = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

function assertSame(ours: Sketch, ref: Reference, label: string): void {
  assert.equal(ours.count, ref.count, `${label}: count`);
  assert.equal(ours.zeroCount, ref.zeroCount, `${label}: zeroCount`);
  assert.equal(ours.sum, ref.sum, `${label}: sum`);
  assert.equal(ours.min, ref.min, `${label}: min`);
  assert.equal(ours.max, ref.max, `${label}: max`);
  for (const q of QS) assert.equal(ours.getValueAtQuantile(q), ref.getValueAtQuantile(q), `${label}: q${q}`);
  const st = ref.store;
  const refBins: number[] = [];
  if (st.count > 0) for (let k = st.minKey; k <= st.maxKey; k++) refBins.push(st.bins[k - st.offset] ?? 0);
  assert.deepEqual(sketchBins(ours).bins, refBins, `${label}: bins`);
}

/** Latency-like values: a lognormal body, a tail, exact zeros and sub-µs ones. */
function draws(next: () => number, n: number, scale: number): number[] {
  return Array.from({ length: n }, () => {
    const r = next();
    if (r < 0.02) return 0;
    if (r < 0.03) return next() * 1e-3;
    if (r < 0.05) return scale * 50 * (1 + next());
    return scale * Math.exp(2 * (next() - 0.5) + 1.5 * (next() - 0.5));
  });
}

describe('the compact sketch (agent/metrics/sketch.ts) against sketches-js', () => {
  it('one value at a time: every figure and bin is the same, for few and many samples and every scale', () => {
    const next = seededRandom(11);
    for (const n of [1, 2, 5, 30, 300, 20_000]) {
      for (const scale of [0.05, 1, 40, 3000]) {
        const ours = newSketch();
        const ref = reference();
        for (const v of draws(next, n, scale)) {
          ours.accept(v);
          ref.accept(v);
        }
        assertSame(ours, ref, `n ${n} scale ${scale}`);
      }
    }
  });

  it('merges (into an empty sketch, wider, narrower, overlapping, empty) give the same figures', () => {
    const next = seededRandom(12);
    const ours = newSketch();
    const ref = reference();
    for (let round = 0; round < 40; round++) {
      const o = newSketch();
      const r = reference();
      const n = round % 7 === 0 ? 0 : 1 + Math.floor(next() * 200);
      for (const v of draws(next, n, 10 ** (next() * 4 - 1))) {
        o.accept(v);
        r.accept(v);
      }
      ours.merge(o);
      ref.merge(r);
      assertSame(ours, ref, `after merge ${round}`);
      assertSame(o, r, `merged-in ${round}`);
    }
  });

  it('weights: counts past 8, 16 and 32 bits, and fractional ones, stay exact', () => {
    const ours = newSketch();
    const ref = reference();
    for (const w of [1, 200, 300, 70_000, 5e9, 0.25, 3]) {
      for (const v of [1, 1, 2, 8]) {
        ours.accept(v, w);
        ref.accept(v, w);
      }
      assertSame(ours, ref, `weight ${w}`);
    }
    assert.ok(ours.bins instanceof Float64Array);
  });

  it('keys spanning more than the bin limit collapse into the lowest kept key: nothing lost, the upper quantiles unchanged', () => {
    const ours = newSketch();
    const ref = reference();
    const values = [1e-6, 2e-6, 1e-5, 1e-3, 1, 5, 100, 1e4, 1e7, 8e7, 8e7];
    for (const v of values) {
      ours.accept(v);
      ref.accept(v);
    }
    assert.equal(ours.maxKey - ours.minKey + 1, SKETCH_BIN_LIMIT);
    assert.equal(sketchBins(ours).bins.reduce((a, b) => a + b, 0), values.length, 'every value is still counted once');
    for (const q of [0.5, 0.75, 0.9, 1]) assert.equal(ours.getValueAtQuantile(q), ref.getValueAtQuantile(q), `q${q}`);
    // A value below the kept range counts in its lowest key.
    ours.accept(1e-7);
    assert.equal(sketchBins(ours).bins[0], 5);
  });

  it('holds a few samples in a small fraction of what the sketches-js sketch holds', () => {
    const ours = newSketch();
    for (const v of [1, 1.05, 1.1, 1.2, 1.4]) ours.accept(v);
    assert.ok(ours.bins.byteLength <= 64, `${ours.bins.byteLength} bytes of bins`);
    const ref = reference();
    ref.accept(1);
    assert.ok(ref.store.bins.length >= 128);
  });
});
