/**
 * The cache's API for predictive preloading, priorities, batch calls, warmer
 * runs and environment overrides, in memory (the Redis side is in
 * test/integration/cache/).
 */
import assert from 'node:assert/strict';
import { createCache, type Cache } from '../../../agent/cache';
import { RouteLensError } from '../../../agent/errors';

function fakeClock(start = 1_000_000) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

const tick = () => new Promise((r) => setImmediate(r));

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string, message?: RegExp): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    assert.ok(err instanceof RouteLensError, String(err));
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return;
  }
  assert.fail(`expected ${code}`);
}

/** A small seeded PRNG (mulberry32), so the "random" pattern is the same on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('cache: predictive preloading', () => {
  let cache: Cache | undefined;
  afterEach(async () => cache?.close());

  /** Reads `keys` one by one with getOrSet (10 ms apart), walks 10 s apart, so every value has expired by the next walk. */
  async function play(walks: string[][], options: { predictive: boolean; maxShare?: number; register?: boolean }) {
    const t = fakeClock();
    let loaderCalls = 0;
    cache = createCache({ ttl: 1000, predictive: { maxShare: options.maxShare ?? 0.9 } }, { clock: t.clock });
    if (options.register !== false) {
      cache.register('page:*', async (key) => {
        loaderCalls++;
        return { key };
      });
    }
    for (const walk of walks) {
      for (const key of walk) {
        t.advance(10);
        const v: { key: string } = await cache.getOrSet(
          key,
          async () => {
            loaderCalls++;
            return { key };
          },
          { predictive: options.predictive },
        );
        assert.deepEqual(v, { key });
        await tick();
      }
      t.advance(10_000);
    }
    return { stats: cache.stats(), loaderCalls };
  }

  const sequential = Array.from({ length: 12 }, () => Array.from({ length: 10 }, (_, i) => `page:${i}`));

  it('a sequential pattern: preloads turn misses into hits, and the stats show their hit rate', async () => {
    const without = await play(sequential, { predictive: false });
    assert.equal(without.stats.overall.hits, 0, 'every value expired between walks');
    await cache!.close();
    const withP = await play(sequential, { predictive: true });
    const p = withP.stats.preloads!;
    assert.ok(withP.stats.overall.hitRate > 0.5, `hit rate ${withP.stats.overall.hitRate}`);
    assert.ok(p.started > 50, `started ${p.started}`);
    assert.equal(p.hits + p.wasted <= p.started, true);
    assert.ok(p.hitRate > 0.9, `preload hit rate ${p.hitRate}`);
    assert.equal(p.inFlight, 0);
    // Every read is a loader call either way: preloading moved them off the request path, it did not add any.
    assert.equal(withP.loaderCalls, without.loaderCalls);
  });

  it('a random pattern: no preloads', async () => {
    const rnd = prng(42);
    const walks = Array.from({ length: 12 }, () => Array.from({ length: 20 }, () => `page:${Math.floor(rnd() * 20)}`));
    const { stats } = await play(walks, { predictive: true });
    assert.equal(stats.preloads!.started, 0);
    assert.ok(stats.preloads!.modelKeys > 0, 'the model did observe the reads');
  });

  it('never more than maxShare of loader calls, whatever the model predicts', async () => {
    const { stats, loaderCalls } = await play(sequential, { predictive: true, maxShare: 0.25 });
    const p = stats.preloads!;
    assert.ok(p.started > 0);
    assert.ok(p.started <= 0.25 * loaderCalls + 1, `${p.started} preloads of ${loaderCalls} loader calls`);
    assert.ok(p.skipped > 0, 'predictions over the share were skipped');
  });

  it('only keys with a registered loader are preloaded; reads that do not opt in teach nothing', async () => {
    const t = fakeClock();
    cache = createCache({ ttl: 1000, namespaces: { page: { predictive: true } } }, { clock: t.clock });
    for (let w = 0; w < 6; w++) {
      for (let i = 0; i < 5; i++) {
        t.advance(10);
        await cache.getOrSet(`page:${i}`, () => i);
        // Opted out per call: not part of the model.
        await cache.get(`other:${i}`, { predictive: false });
        await tick();
      }
      t.advance(10_000);
    }
    const p = cache.stats().preloads!;
    assert.equal(p.started, 0, 'no loader registered for page:*');
    assert.ok(p.skipped > 0, 'predictions were made and skipped');
    assert.equal(p.modelKeys, 4, 'page:0..page:3 have a successor; other:* were never observed');
  });

  it('register validates its pattern and loader', async () => {
    cache = createCache();
    await rejectsWith(() => cache!.register('page:[0-9]', () => 1), 'ROUTELENS_ERR_PATTERN_REJECTED');
    await rejectsWith(() => cache!.register('page:*', 1 as never), 'ROUTELENS_ERR_INVALID_OPTION');
  });
});

describe('cache: priority', () => {
  let cache: Cache | undefined;
  afterEach(async () => cache?.close());

  const v = (n: number) => 'x'.repeat(n - 2); // JSON length n

  it('under memory pressure L1 evicts low before normal before high', async () => {
    cache = createCache({ maxBytes: 100, namespaces: { keep: { priority: 'high' } } });
    await cache.set('keep:1', v(20));
    await cache.set('n:1', v(20));
    await cache.set('l:1', v(20), { priority: 'low' });
    await cache.set('n:2', v(20), { priority: 'normal' });
    await cache.set('l:2', v(20), { priority: 'low' });
    assert.deepEqual(cache.stats().priorities, { high: 1, normal: 2, low: 2 });
    await cache.set('h:1', v(30), { priority: 'high' });
    assert.equal(await cache.get('l:1'), undefined);
    assert.equal(await cache.get('l:2'), undefined);
    assert.equal(await cache.get('n:1'), v(20));
    await cache.set('h:2', v(30), { priority: 'high' });
    assert.equal(await cache.get('n:2'), undefined, 'normal goes once no low entry is left (n:1 was read since, n:2 was not)');
    assert.equal(await cache.get('n:1'), v(20));
    assert.equal(await cache.get('keep:1'), v(20), 'the namespace default priority is high');
    assert.equal(cache.stats().evictions, 3);
    assert.ok(cache.stats().l1.bytes <= 100);
  });

  it('getOrSet takes a priority; a bad priority is refused', async () => {
    cache = createCache({ maxEntries: 2 });
    await cache.getOrSet('a:1', () => 1, { priority: 'high' });
    await cache.getOrSet('a:2', () => 2, { priority: 'high' });
    await cache.getOrSet('a:3', () => 3, { priority: 'low' });
    assert.deepEqual(await cache.getMany(['a:1', 'a:2', 'a:3']), [1, 2, undefined]);
    await rejectsWith(cache.set('a:4', 4, { priority: 'urgent' as never }), 'ROUTELENS_ERR_INVALID_OPTION');
    await rejectsWith(cache.getOrSet('a:4', () => 4, { priority: 'urgent' as never }), 'ROUTELENS_ERR_INVALID_OPTION');
    await rejectsWith(() => cache!.register('a:*', () => 4, { priority: 'urgent' as never }), 'ROUTELENS_ERR_INVALID_OPTION');
    await rejectsWith(() => createCache({ namespaces: { a: { priority: 'top' as never } } }), 'ROUTELENS_ERR_INVALID_OPTION');
  });
});

describe('cache: getMany / setMany (in memory)', () => {
  let cache: Cache | undefined;
  afterEach(async () => cache?.close());

  it('answer in the keys\' order, with duplicates and misses, counting each read', async () => {
    cache = createCache();
    await cache.setMany([
      ['k:1', 1],
      ['k:2', { two: 2 }, { ttl: 10_000, tags: ['t'] }],
    ]);
    assert.deepEqual(await cache.getMany(['k:2', 'k:3', 'k:1', 'k:2']), [{ two: 2 }, undefined, 1, { two: 2 }]);
    const s = cache.stats();
    assert.equal(s.sets, 2);
    assert.equal(s.overall.hits, 3);
    assert.equal(s.overall.misses, 1);
    assert.deepEqual(await cache.invalidate({ tag: 't' }), { removed: 1, dryRun: false });
    assert.deepEqual(await cache.getMany([]), []);
  });

  it('setMany validates every entry before writing any', async () => {
    cache = createCache();
    await rejectsWith(cache.setMany([['ok:1', 1], ['', 2]]), 'ROUTELENS_ERR_INVALID_OPTION');
    await rejectsWith(cache.setMany([['ok:1', 1], ['bad:1', 1n]]), 'ROUTELENS_ERR_INVALID_OPTION');
    await rejectsWith(cache.setMany('nope' as never), 'ROUTELENS_ERR_INVALID_OPTION');
    await rejectsWith(cache.getMany(['ok', 7 as never]), 'ROUTELENS_ERR_INVALID_OPTION');
    assert.equal(await cache.get('ok:1'), undefined);
    await cache.close();
    await rejectsWith(cache.getMany(['a']), 'ROUTELENS_ERR_CLOSED');
    await rejectsWith(cache.setMany([['a', 1]]), 'ROUTELENS_ERR_CLOSED');
  });
});

describe('cache: warmer runs', () => {
  let cache: Cache | undefined;
  afterEach(async () => cache?.close());

  it('runs never overlap: a warm() during a run joins it', async () => {
    let calls = 0;
    let release!: () => void;
    cache = createCache({
      warmers: {
        slow: () => {
          calls++;
          return new Promise((r) => (release = () => r([['w:1', 1], ['w:2', 2]])));
        },
      },
    });
    const a = cache.warm('slow');
    const b = cache.warm('slow');
    await tick();
    assert.equal(cache.stats().warming![0].running, true);
    release();
    assert.deepEqual(await a, { name: 'slow', loaded: 2 });
    assert.deepEqual(await b, { name: 'slow', loaded: 2 });
    assert.equal(calls, 1);
    await tick();
    const w = cache.stats().warming![0];
    assert.equal(w.running, false);
    assert.equal(w.runs, 1);
    assert.equal(w.lastRun!.trigger, 'demand');
    assert.equal(w.lastRun!.loaded, 2);
    assert.equal(w.lastRun!.error, undefined);
    assert.ok(w.lastRun!.duration >= 0);
  });

  it('a run is bounded by its timeout; the warmer is not called again while its call is pending', async () => {
    let calls = 0;
    let release!: () => void;
    cache = createCache({
      warmers: {
        stuck: {
          timeout: 50,
          load: () => {
            calls++;
            return new Promise((r) => (release = () => r([['s:1', 1]])));
          },
        },
      },
    });
    const started = Date.now();
    await rejectsWith(cache.warm('stuck'), 'ROUTELENS_ERR_LOADER', /timed out after 50 ms/);
    assert.ok(Date.now() - started < 1000);
    let w = cache.stats().warming![0];
    assert.match(w.lastRun!.error!, /timed out/);
    assert.equal(w.running, true, 'its call is still pending');
    await rejectsWith(cache.warm('stuck'), 'ROUTELENS_ERR_LOADER', /timed out/);
    assert.equal(calls, 1);
    release();
    await tick();
    await tick();
    assert.equal(await cache.get('s:1'), undefined, 'what a timed-out run returns late is not written');
    w = cache.stats().warming![0];
    assert.equal(w.running, false);
    await rejectsWith(cache.warm('stuck'), 'ROUTELENS_ERR_LOADER', /timed out/);
    assert.equal(calls, 2, 'once settled, it may run again');
  });

  it('a failing warmer is reported in the stats; options are validated', async () => {
    cache = createCache({
      warmers: {
        boom: () => {
          throw new Error('db down');
        },
        notIterable: (() => 42) as never,
      },
    });
    await rejectsWith(cache.warm('boom'), 'ROUTELENS_ERR_LOADER', /db down/);
    await rejectsWith(cache.warm('notIterable'), 'ROUTELENS_ERR_LOADER');
    const [boom, notIterable] = cache.stats().warming!;
    assert.equal(boom.lastRun!.error, 'db down');
    assert.ok(notIterable.lastRun!.error);
    for (const bad of [{ w: { load: 1 } }, { w: { load: () => [], every: 10 } }, { w: { load: () => [], timeout: 0 } }]) {
      await rejectsWith(() => createCache({ warmers: bad as never }), 'ROUTELENS_ERR_INVALID_OPTION');
    }
  });
});

describe('cache: environment overrides (ROUTELENS_CACHE_*)', () => {
  let cache: Cache | undefined;
  afterEach(async () => cache?.close());

  it('L1 size and memory and the default ttl win over the options', async () => {
    const t = fakeClock();
    const env = { ROUTELENS_CACHE_MAX_ENTRIES: '7', ROUTELENS_CACHE_MAX_BYTES: '5000', ROUTELENS_CACHE_TTL: '100' };
    cache = createCache({ maxEntries: 3, ttl: 60_000 }, { clock: t.clock, env });
    const s = cache.stats();
    assert.equal(s.l1.maxEntries, 7);
    assert.equal(s.l1.maxBytes, 5000);
    await cache.set('a:1', 1);
    t.advance(100);
    assert.equal(await cache.get('a:1'), undefined);
  });

  it('ROUTELENS_CACHE_WARM switches warming at start on (1) and off (0)', async () => {
    let runs = 0;
    const warmers = { w: () => (runs++, [['w:1', 1]] as Array<[string, unknown]>) };
    cache = createCache({ warmers }, { env: { ROUTELENS_CACHE_WARM: '1' } });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(runs, 1);
    assert.equal(await cache.get('w:1'), 1);
    await cache.close();
    cache = createCache({ warmers, warmOnStart: true }, { env: { ROUTELENS_CACHE_WARM: '0' } });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(runs, 1);
    assert.deepEqual(await cache.warm('w'), { name: 'w', loaded: 1 }, 'on demand still works');
  });

  it('a malformed value throws, naming the variable; an empty one is ignored', async () => {
    for (const env of [{ ROUTELENS_CACHE_MAX_ENTRIES: 'lots' }, { ROUTELENS_CACHE_TTL: '-1' }, { ROUTELENS_CACHE_WARM: 'yes' }, { ROUTELENS_CACHE_MAX_BYTES: '0' }]) {
      await rejectsWith(() => createCache({}, { env }), 'ROUTELENS_ERR_INVALID_OPTION', new RegExp(Object.keys(env)[0]));
    }
    cache = createCache({ maxEntries: 3 }, { env: { ROUTELENS_CACHE_MAX_ENTRIES: '' } });
    assert.equal(cache.stats().l1.maxEntries, 3);
  });
});
