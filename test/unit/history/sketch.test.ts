/** The history's sketch encodings: the store's compact form and the DDSketch protobuf of baseline files. */
import assert from 'node:assert/strict';
import { type Figures, decodeFigures, emptyFigures, encodeFigures, newSketch, quantile, sketchFromBase64, sketchToBase64 } from '../../../agent/history/sketch';

function figures(values: number[], errors = 0): Figures {
  const f = emptyFigures();
  for (const v of values) {
    f.count++;
    f.sketch.accept(v);
  }
  f.errors = errors;
  return f;
}

const spread = (n: number, scale: number) => Array.from({ length: n }, (_, i) => scale * (1 + (i % 100) / 10));

describe('history sketches', () => {
  it('the store form round-trips count, errors, zeros and percentiles', () => {
    const f = figures([0, 0, ...spread(500, 3)], 7);
    const back = decodeFigures(JSON.parse(JSON.stringify(encodeFigures(f))));
    assert.ok(back);
    assert.equal(back.count, 502);
    assert.equal(back.errors, 7);
    assert.equal(back.sketch.count, 502);
    assert.equal(back.sketch.zeroCount, 2);
    for (const q of [0.5, 0.95, 0.99]) assert.equal(quantile(back.sketch, q), quantile(f.sketch, q));
  });

  it('refuses a store entry that is not what it writes, without allocating from it', () => {
    for (const bad of [null, 'x', [], [1, 0], [1, 2, 0], [1, 0, 0, 5], [1, 0, 0, 1e9, 1], [1, 0, 0, 1.5, 1], [1, 0, 0, 3, -1], [1, 0, 0, 3, 0], [-1, 0, 0]]) {
      assert.equal(decodeFigures(bad), undefined, JSON.stringify(bad));
    }
  });

  it('the base64 DDSketch protobuf round-trips within the sketch accuracy', () => {
    const s = newSketch();
    for (const v of spread(1000, 2)) s.accept(v);
    s.accept(0);
    const back = sketchFromBase64(sketchToBase64(s));
    assert.ok(back);
    assert.equal(back.count, s.count);
    for (const q of [0.5, 0.95, 0.99]) {
      const a = quantile(s, q)!;
      const b = quantile(back, q)!;
      assert.ok(Math.abs(a - b) / a < 0.02, `q${q}: ${a} vs ${b}`);
    }
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
    const bytes = Buffer.concat([len(1, mapping), len(2, len(1, entry))]);
    const s = sketchFromBase64(bytes.toString('base64'));
    assert.ok(s);
    assert.equal(s.count, 10);
    const expected = gamma ** 100 * (2 / (1 + gamma));
    assert.ok(Math.abs(quantile(s, 0.5)! - expected) / expected < 0.02, `${quantile(s, 0.5)} vs ${expected}`);
  });

  it('answers undefined for bytes that are not a DDSketch', () => {
    assert.equal(sketchFromBase64(Buffer.from('garbage bytes that are not a protobuf').toString('base64')), undefined);
    assert.equal(sketchFromBase64(Buffer.from([0x0a, 0xff, 0xff]).toString('base64')), undefined);
  });
});
