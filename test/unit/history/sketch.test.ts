/** The history's store form of figures (the portable form: test/unit/metrics/sketch.test.ts). */
import assert from 'node:assert/strict';
import { type Figures, decodeFigures, emptyFigures, encodeFigures } from '../../../agent/history/sketch';
import { quantile } from '../../../agent/metrics/sketch';

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
});
