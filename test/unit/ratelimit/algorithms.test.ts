import assert from 'node:assert/strict';
import { MemoryCounter, slidingWait } from '../../../agent/ratelimit/algorithms';
import { LimiterStats, MAX_ROUTES, OVERFLOW_ROUTE, TopKeys } from '../../../agent/ratelimit/stats';
import { storageKey } from '../../../agent/ratelimit/stores';

function fakeClock(start = 1_700_000_000_000) {
  const c = { now: start, clock: () => c.now };
  return c;
}

/** Hits `n` times; returns how many were allowed. */
function allowedOf(counter: MemoryCounter, key: string, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (counter.hit(key) <= counter.max) ok++;
  return ok;
}

describe('ratelimit MemoryCounter fixed-window', () => {
  it('allows exactly max per window and resets exactly at the window edge', () => {
    const t = fakeClock();
    const c = new MemoryCounter('fixed-window', 1000, 3, t.clock, 100);
    assert.equal(allowedOf(c, 'a', 5), 3);
    assert.equal(c.ms, 1000);
    t.now += 999;
    assert.equal(c.hit('a'), 6, 'still the same window at +999 ms');
    assert.equal(c.ms, 1);
    t.now += 1;
    assert.equal(c.hit('a'), 1, 'a new window at +1000 ms');
    assert.equal(c.ms, 1000);
    assert.equal(allowedOf(c, 'b', 3), 3, 'keys are independent');
  });

  it('takes a new max on the next hit (setMax)', () => {
    const t = fakeClock();
    const c = new MemoryCounter('fixed-window', 1000, 1, t.clock, 100);
    assert.equal(allowedOf(c, 'a', 2), 1);
    c.max = 5;
    assert.equal(allowedOf(c, 'a', 5), 3, 'hits 3..5 fit under the new max');
  });
});

describe('ratelimit MemoryCounter sliding-window', () => {
  it('weights the previous window by its overlap', () => {
    const t = fakeClock(10_000_000); // aligned to the 1 s window
    const c = new MemoryCounter('sliding-window', 1000, 10, t.clock, 100);
    assert.equal(allowedOf(c, 'a', 15), 10, 'max in the first window');
    t.now += 1000; // next window, elapsed 0: the previous 10 weigh fully
    assert.equal(allowedOf(c, 'a', 1), 0);
    t.now += 500; // half of the previous window still overlaps: 5 count
    assert.equal(allowedOf(c, 'a', 10), 5);
    t.now += 500; // previous window (5 hits) fully overlapping again
    assert.equal(allowedOf(c, 'a', 10), 5);
  });

  it('under a steady load, never lets more than max through in any window-long span', () => {
    const t = fakeClock(10_000_000);
    const c = new MemoryCounter('sliding-window', 1000, 20, t.clock, 100);
    const allowedAt: number[] = [];
    for (let step = 0; step < 4000; step += 7) {
      t.now = 10_000_000 + step;
      for (let i = 0; i < 3; i++) if (c.hit('k') <= 20) allowedAt.push(step);
    }
    for (const s of allowedAt) {
      const inSpan = allowedAt.filter((x) => x > s - 1000 && x <= s).length;
      assert.ok(inSpan <= 20, `${inSpan} allowed in the 1 s ending at ${s}`);
    }
  });

  it('reports a wait after which the next hit fits', () => {
    const t = fakeClock(10_000_000);
    const c = new MemoryCounter('sliding-window', 1000, 4, t.clock, 100);
    allowedOf(c, 'a', 4);
    t.now += 1200;
    while (c.hit('a') <= 4) {
      /* fill */
    }
    const wait = c.ms;
    assert.ok(wait > 0 && wait <= 2000, `wait ${wait}`);
    t.now += wait;
    assert.ok(c.hit('a') <= 4, 'allowed after the reported wait');
    assert.equal(slidingWait(0, 4, 4, 1000, 250), 750 + 250);
    assert.equal(slidingWait(4, 0, 0, 1000, 100), 900);
  });
});

describe('ratelimit MemoryCounter token-bucket', () => {
  it('allows a burst of max, then refills at max per window', () => {
    const t = fakeClock();
    const c = new MemoryCounter('token-bucket', 1000, 10, t.clock, 100);
    assert.equal(allowedOf(c, 'a', 12), 10);
    assert.equal(c.ms, 100, 'one token every 100 ms');
    t.now += 99;
    assert.equal(allowedOf(c, 'a', 1), 0);
    t.now += 1;
    assert.equal(allowedOf(c, 'a', 2), 1);
    t.now += 10_000;
    assert.equal(allowedOf(c, 'a', 20), 10, 'never more than the bucket size');
  });

  it('max 0 limits everything', () => {
    const c = new MemoryCounter('token-bucket', 1000, 0, fakeClock().clock, 100);
    assert.equal(allowedOf(c, 'a', 3), 0);
  });
});

describe('ratelimit MemoryCounter bounds', () => {
  for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket'] as const) {
    it(`${algorithm}: holds at most maxKeys keys whatever keys arrive`, () => {
      const t = fakeClock();
      const c = new MemoryCounter(algorithm, 60_000, 5, t.clock, 500);
      for (let i = 0; i < 20_000; i++) c.hit(`k${Math.random()}`);
      assert.equal(c.size, 500);
      assert.equal(c.evictions, 20_000 - 500);
    });
  }

  it('stores keys longer than 200 characters as a fixed-size hash', () => {
    const long = 'x'.repeat(1 << 20);
    const k = storageKey(long);
    assert.ok(k.length < 64);
    assert.equal(storageKey(long), k);
    assert.notEqual(storageKey(long + 'y'), k);
    assert.equal(storageKey('1.2.3.4'), '1.2.3.4');
  });
});

describe('ratelimit stats', () => {
  it('TopKeys keeps the heavy hitters within its capacity', () => {
    const top = new TopKeys(16);
    for (let i = 0; i < 5000; i++) {
      top.add(i % 3 === 0 ? 'heavy' : `rand-${i}`);
      if (i % 5 === 0) top.add('second');
    }
    assert.equal(top.size, 16);
    const t = top.top(2);
    assert.deepEqual(
      t.map((x) => x.key),
      ['heavy', 'second'],
    );
    assert.ok(t[0].limited >= 1667);
  });

  it('TopKeys truncates huge keys', () => {
    const top = new TopKeys(4);
    top.add('k'.repeat(100_000));
    assert.ok(top.top(1)[0].key.length <= 201);
  });

  it('LimiterStats: the 1-minute window forgets what is older than 60 s', () => {
    const s = new LimiterStats();
    const t0 = 1_700_000_000_000;
    s.recordAllowed(t0, 'GET /a');
    s.recordLimited(t0 + 30_000, 'GET /a', 'k');
    assert.deepEqual(s.window(t0 + 59_000), { allowed: 1, limited: 1 });
    assert.deepEqual(s.window(t0 + 60_000), { allowed: 0, limited: 1 });
    assert.deepEqual(s.window(t0 + 200_000), { allowed: 0, limited: 0 });
    assert.equal(s.allowed + s.limited, 2, 'totals stay');
  });

  it('LimiterStats: routes are capped with an overflow bucket', () => {
    const s = new LimiterStats();
    for (let i = 0; i < 1000; i++) s.recordAllowed(1, `GET /r${i}`);
    assert.equal(s.routes.size, MAX_ROUTES + 1);
    assert.equal(s.routes.get(OVERFLOW_ROUTE)?.allowed, 1000 - MAX_ROUTES);
  });
});
