/** The portable latency sketch: the DDSketch protobuf codec (protocol/sketch.ts) and the DDSketch ⇄ bins ⇄ base64 of agent/metrics/sketch.ts. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeFigures, emptyFigures } from '../../../agent/history/sketch';
import { parseBaseline } from '../../../agent/history/baseline';
import { type Sketch, mergeSketch, newSketch, quantile, readSketch, sketchToBase64 } from '../../../agent/metrics/sketch';
import { LatencyAccumulator, binKey } from '../../../agent/metrics/summary';
import { quantileOf } from '../../../cli/perf/sketch';
import { decodeSketch, encodeSketch } from '../../../protocol/sketch';
import { seededRandom } from '../../support/random';

const QS = [0.25, 0.5, 0.95, 0.99];

function sketchOf(values: readonly number[]): Sketch {
  const s = newSketch();
  for (const v of values) s.accept(v);
  return s;
}

function accumulatorOf(values: readonly number[]): LatencyAccumulator {
  const a = new LatencyAccumulator();
  for (const v of values) a.add(v, binKey(v), 0);
  return a;
}

const quantiles = (s: Sketch) => QS.map((q) => quantile(s, q));

describe('portable sketches (protocol/sketch.ts, agent/metrics/sketch.ts)', () => {
  it('the codec round-trips bins exactly; zeros, the sparse map form and unknown fields decode', () => {
    const bytes = encodeSketch({ gamma: 1.02, indexOffset: 0, zeroCount: 3, offset: -2, bins: [1, 0, 2] });
    assert.deepEqual(decodeSketch(bytes), { gamma: 1.02, indexOffset: 0, zeroCount: 3, offset: -2, bins: [1, 0, 2] });
    // sparse store entry (key 5 → 4), plus an unknown varint field 9 at the top
    const f64 = (v: number) => [...new Uint8Array(new Float64Array([v]).buffer)];
    const entry = [0x08, 10, 0x11, ...f64(4)];
    const store = [0x0a, entry.length, ...entry];
    const mapping = [0x09, ...f64(1.02)];
    const sparse = decodeSketch(Uint8Array.from([0x0a, mapping.length, ...mapping, 0x12, store.length, ...store, 0x48, 1]));
    assert.equal(sparse.offset, 5);
    assert.deepEqual(sparse.bins, [4]);
    assert.throws(() => decodeSketch(Uint8Array.from([0x0a, 5, 1])), /truncated/);
  });

  it('base64 round-trips count, zeros and every quantile', () => {
    const next = seededRandom(1);
    const s = sketchOf([0, 0, ...Array.from({ length: 5000 }, () => 1 + next() * 99)]);
    const back = readSketch(sketchToBase64(s));
    assert.equal(back.count, 5002);
    assert.equal(back.zeroCount, 2);
    assert.deepEqual(quantiles(back), quantiles(s));
    assert.equal(readSketch('').count, 0);
  });

  it('the agent encodes (GET /v1/sketches), the baseline reader and the command line decode: same quantiles', () => {
    const next = seededRandom(2);
    const values = Array.from({ length: 3000 }, () => 5 * Math.exp(next() * 3));
    const a = accumulatorOf(values);
    const base = parseBaseline(JSON.stringify({ routes: [{ id: 'GET /a', count: 3000, sketch: a.encodedSketch() }] }), 'baseline.json').get('GET /a');
    assert.ok(base);
    assert.equal(base.count, 3000);
    const cli = readSketch(a.encodedSketch());
    const sum = a.summary();
    for (const [q, p] of [[0.5, sum.p50], [0.95, sum.p95], [0.99, sum.p99]] as const) {
      assert.ok(Math.abs(quantile(base.sketch, q)! - p) / p < 0.02, `history q${q}: ${quantile(base.sketch, q)} vs ${p}`);
      assert.equal(quantileOf(cli, q).value, quantile(base.sketch, q));
    }
  });

  it('the history encodes (sketchToBase64 of its figures), the command line decodes: same quantiles', () => {
    const next = seededRandom(3);
    const f = emptyFigures();
    for (let i = 0; i < 2000; i++) {
      f.count++;
      f.sketch.accept(20 + next() * 80);
    }
    const cli = readSketch(sketchToBase64(f.sketch));
    for (const q of QS) assert.equal(quantileOf(cli, q).value, quantile(f.sketch, q));
  });

  it('sketches written before the encoders were folded into one still read, to the same quantiles', () => {
    const fx = JSON.parse(readFileSync(join(__dirname, '../../fixtures/sketch-formats.json'), 'utf8')) as { agent: string; history: string; store: unknown };
    const values = [0, 0, 0, ...Array.from({ length: 400 }, (_, i) => 10 + (i % 40) / 10), 250];
    const expected = quantiles(sketchOf(values));
    assert.deepEqual(expected.slice(1), [11.823, 13.6, 13.874]);
    for (const old of [fx.agent, fx.history]) {
      const s = readSketch(old);
      assert.equal(s.count, 404);
      assert.equal(s.zeroCount, 3);
      assert.deepEqual(quantiles(s), expected);
    }
    const stored = decodeFigures(fx.store);
    assert.ok(stored);
    assert.deepEqual([stored.count, stored.errors], [404, 2]);
    assert.deepEqual(quantiles(stored.sketch), expected);
  });

  it('reads a sketch of another accuracy and the sparse binCounts form (bins re-added at their values)', () => {
    const gamma = 1.02 / 0.98; // 2 % accuracy
    const double = (field: number, v: number) => {
      const b = Buffer.alloc(9);
      b[0] = field * 8 + 1;
      b.writeDoubleLE(v, 1);
      return b;
    };
    const len = (field: number, body: Buffer) => Buffer.concat([Buffer.from([field * 8 + 2, body.length]), body]);
    const mapping = Buffer.concat([double(1, gamma), double(2, 0)]);
    // binCounts map entry: key 100 (sint32 zigzag 200 = 0xc8 0x01), count 10.
    const entry = Buffer.concat([Buffer.from([0x08, 0xc8, 0x01]), double(2, 10)]);
    const s = readSketch(Buffer.concat([len(1, mapping), len(2, len(1, entry))]).toString('base64'));
    assert.equal(s.count, 10);
    const expected = gamma ** 100 * (2 / (1 + gamma));
    assert.ok(Math.abs(quantile(s, 0.5)! - expected) / expected < 0.02, `${quantile(s, 0.5)} vs ${expected}`);
  });

  it('refuses text that is not a DDSketch, and the baseline reader skips its route', () => {
    for (const bad of [Buffer.from('garbage bytes that are not a protobuf'), Buffer.from([0x0a, 0xff, 0xff]), Buffer.from(encodeSketch({ gamma: 1.02, indexOffset: 0, zeroCount: -1, offset: 0, bins: [] }))]) {
      assert.throws(() => readSketch(bad.toString('base64')), /sketch/);
      assert.equal(parseBaseline(JSON.stringify({ routes: [{ id: 'GET /a', count: 1, sketch: bad.toString('base64') }] }), 'b.json').size, 0);
    }
  });

  it('three quantiles read in one pass over the bins are those read one at a time, zeros, ties and wide counts included', () => {
    const random = seededRandom(14);
    const out = [0, 0, 0];
    for (let trial = 0; trial < 200; trial++) {
      const s = newSketch();
      const n = 1 + Math.floor(random() * (trial % 10 === 0 ? 3 : 400));
      for (let i = 0; i < n; i++) {
        const r = random();
        // Zeros, one heavy value (ties, counts past a byte), and a spread over three decades.
        s.accept(r < 0.15 ? 0 : r < 0.4 ? 12.5 : 0.05 * 1000 ** random(), trial % 7 === 0 ? 300 : 1);
      }
      for (const [q1, q2, q3] of [[0.5, 0.95, 0.99], [0, 0.5, 1], [0.1, 0.1, 0.2]]) {
        s.valuesAtQuantiles(q1!, q2!, q3!, out);
        assert.deepEqual(out, [s.getValueAtQuantile(q1!), s.getValueAtQuantile(q2!), s.getValueAtQuantile(q3!)], `trial ${trial}, ${n} values`);
      }
    }
    newSketch().valuesAtQuantiles(0.5, 0.95, 0.99, out);
    assert.deepEqual(out, [NaN, NaN, NaN]);
  });

  it('sketches merge: the merged quantiles are those of all the samples', () => {
    const low = Array.from({ length: 1000 }, (_, i) => 1 + i / 100);
    const high = Array.from({ length: 1000 }, (_, i) => 50 + i / 10);
    const merged = readSketch(sketchToBase64(sketchOf(low)));
    mergeSketch(merged, readSketch(accumulatorOf(high).encodedSketch()));
    mergeSketch(merged, newSketch());
    assert.equal(merged.count, 2000);
    assert.deepEqual(quantiles(merged), quantiles(sketchOf([...low, ...high])));
  });
});
