/** MemoryCounter.hit with points and MemoryCounter.peek: what limiter.consume(key, points) and limiter.check(key) count in memory. */
import assert from 'node:assert/strict';
import { ALGORITHMS, MemoryCounter, slidingWait } from '../../../agent/ratelimit/algorithms';

function fakeClock(start = 1_700_000_000_000) {
  const c = { now: start, clock: () => c.now };
  return c;
}

describe('ratelimit MemoryCounter.peek', () => {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: counts nothing, whatever the number of peeks`, () => {
      const t = fakeClock();
      const c = new MemoryCounter(algorithm, 1000, 3, t.clock, 100);
      for (let i = 0; i < 10; i++) assert.equal(c.peek('a', 1), 3);
      assert.equal(c.ms, 0, 'nothing counted: nothing to reset');
      assert.equal(c.size, 0, 'a peek never inserts a key');
      c.hit('a');
      for (let i = 0; i < 10; i++) assert.equal(c.peek('a', 1), 2);
      assert.equal(c.hit('a'), 2, 'the second hit is still the second');
      assert.equal(c.peek('a', 1), 1);
      assert.equal(c.peek('a', 2), 1, 'what is left does not depend on the points asked');
    });

    it(`${algorithm}: agrees with the next hit on whether it fits`, () => {
      const t = fakeClock(1_700_000_000_250);
      const c = new MemoryCounter(algorithm, 1000, 4, t.clock, 100);
      for (let step = 0; step < 40; step++) {
        const left = c.peek('k', 1);
        const fits = left >= 1;
        const hits = c.hit('k');
        assert.equal(hits <= 4, fits, `step ${step}: peek said ${left} left, hit counted ${hits}`);
        if (fits) assert.equal(4 - hits, left - 1, `step ${step}: remaining after the hit`);
        t.now += 97;
      }
    });

    it(`${algorithm}: a refused peek's ms is when the points fit`, () => {
      const t = fakeClock(1_700_000_000_000);
      const c = new MemoryCounter(algorithm, 1000, 2, t.clock, 100);
      c.hit('a');
      c.hit('a');
      assert.equal(c.peek('a', 1), 0);
      const wait = c.ms;
      assert.ok(wait > 0 && wait <= 2000, `wait ${wait}`);
      t.now += wait;
      assert.ok(c.peek('a', 1) >= 1, `fits after the reported ${wait} ms`);
    });
  }
});

describe('ratelimit MemoryCounter.hit with points', () => {
  it('fixed-window: counts the points, refuses past max and counts the refused ones too', () => {
    const c = new MemoryCounter('fixed-window', 1000, 10, fakeClock().clock, 100);
    assert.equal(c.hit('a', 4), 4);
    assert.equal(c.hit('a', 6), 10, 'exactly max is allowed');
    assert.equal(c.hit('a', 1), 11, 'past max: refused (and counted, as a refused request is)');
    assert.equal(c.peek('a', 1), 0);
  });

  it('sliding-window: refuses points that do not fit, without counting them', () => {
    const c = new MemoryCounter('sliding-window', 1000, 10, fakeClock(1_700_000_000_000).clock, 100);
    assert.equal(c.hit('a', 7), 7);
    assert.equal(c.hit('a', 4), 11, 'refused');
    assert.equal(c.peek('a', 1), 3, 'the refused points were not counted');
    assert.equal(c.hit('a', 3), 10);
  });

  it('token-bucket: takes that many tokens; more than the bucket never fit', () => {
    const t = fakeClock();
    const c = new MemoryCounter('token-bucket', 1000, 10, t.clock, 100);
    assert.equal(c.hit('a', 6), 6);
    assert.equal(c.hit('a', 5), 11, 'refused: 4 tokens left');
    assert.equal(c.ms, 100, 'one more token in 100 ms');
    t.now += 100;
    assert.equal(c.hit('a', 5), 10);
    assert.ok(c.hit('b', 11) > 10, 'more than max never fits');
  });

  it('slidingWait with points: the wait until that many fit', () => {
    // 4 counted in the current window, none before, max 4: 2 more fit once half of this window has slid out.
    assert.equal(slidingWait(0, 4, 4, 1000, 250, 2), 750 + 500);
    assert.equal(slidingWait(0, 4, 4, 1000, 250, 1), slidingWait(0, 4, 4, 1000, 250));
    assert.equal(slidingWait(0, 0, 2, 1000, 100, 3), 900, 'more than max: the rest of the window');
  });
});
