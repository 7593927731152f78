import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createCache, type Cache } from '../../../agent/cache';
import { requestContext } from '../../../agent/context';
import { RouteLensError } from '../../../agent/errors';

setFlagsFromString('--expose-gc');

function fakeClock(start = 1_000_000) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string): Promise<RouteLensError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    assert.ok(err instanceof RouteLensError, String(err));
    assert.equal(err.code, code);
    return err;
  }
  assert.fail(`expected ${code}`);
}

describe('createCache (L1 only)', () => {
  let cache: Cache;
  afterEach(async () => cache?.close());

  it('validates options with coded errors', async () => {
    for (const bad of [{ maxEntries: 0 }, { ttl: -1 }, { redis: 'http://x' }, { timeout: 'x' }, { namespaces: { a: { ttl: -5 } } }, { warmers: { w: 1 } }, { breaker: { threshold: 0 } }]) {
      await rejectsWith(() => createCache(bad as never), 'ROUTELENS_ERR_INVALID_OPTION');
    }
  });

  it('get/set/has/delete round-trip JSON values', async () => {
    cache = createCache();
    await cache.set('users:1', { name: 'ada', at: new Date(0) });
    assert.deepEqual(await cache.get('users:1'), { name: 'ada', at: '1970-01-01T00:00:00.000Z' });
    assert.equal(await cache.has('users:1'), true);
    assert.equal(await cache.delete('users:1'), true);
    assert.equal(await cache.get('users:1'), undefined);
    assert.equal(await cache.delete('users:1'), false);
  });

  it('expires entries by ttl with an injected clock, counting expirations', async () => {
    const t = fakeClock();
    cache = createCache({ ttl: 1000 }, { clock: t.clock });
    await cache.set('a:1', 1);
    t.advance(999);
    assert.equal(await cache.get('a:1'), 1);
    t.advance(1);
    assert.equal(await cache.get('a:1'), undefined);
    assert.equal(cache.stats().expirations, 1);
    assert.equal(cache.stats().l1.entries, 0);
  });

  it('applies namespace default ttls, overridable per call', async () => {
    const t = fakeClock();
    cache = createCache({ ttl: 10_000, namespaces: { short: { ttl: 100 } } }, { clock: t.clock });
    await cache.set('short:1', 1);
    await cache.set('short:2', 2, { ttl: 5000 });
    await cache.set('long:1', 3);
    t.advance(150);
    assert.equal(await cache.get('short:1'), undefined);
    assert.equal(await cache.get('short:2'), 2);
    assert.equal(await cache.get('long:1'), 3);
  });

  it('tags: invalidating a tag removes its entries only, and counts them', async () => {
    cache = createCache();
    await cache.set('u:1', 1, { tags: ['users'] });
    await cache.set('u:2', 2, { tags: ['users', 'admins'] });
    await cache.set('p:1', 3, { tags: ['posts'] });
    const dry = await cache.invalidate({ tag: 'users' }, { dryRun: true });
    assert.deepEqual(dry, { removed: 2, dryRun: true });
    assert.equal(await cache.get('u:1'), 1);
    assert.deepEqual(await cache.invalidate({ tag: 'users' }), { removed: 2, dryRun: false });
    assert.equal(await cache.get('u:1'), undefined);
    assert.equal(await cache.get('u:2'), undefined);
    assert.equal(await cache.get('p:1'), 3);
    // A new entry with the tag set afterwards is visible.
    await cache.set('u:3', 3, { tags: ['users'] });
    assert.equal(await cache.get('u:3'), 3);
  });

  it('tags: a load that started before the tag was invalidated is not served', async () => {
    const t = fakeClock();
    cache = createCache({}, { clock: t.clock });
    let release!: (v: number) => void;
    const pending = cache.getOrSet('u:1', () => new Promise<number>((r) => (release = r)), { tags: ['users'] });
    await new Promise((r) => setImmediate(r));
    t.advance(5);
    await cache.invalidate({ tag: 'users' });
    t.advance(5);
    release(1);
    assert.equal(await pending, 1);
    assert.equal(await cache.get('u:1'), undefined, 'obsolete value must not be served');
  });

  it('pattern invalidation and clearNamespace, with dry runs', async () => {
    cache = createCache();
    for (let i = 0; i < 5; i++) await cache.set(`users:${i}`, i);
    await cache.set('posts:1', 1);
    await cache.set('usersx', 1);
    assert.deepEqual(await cache.invalidate({ pattern: 'users:*' }, { dryRun: true }), { removed: 5, dryRun: true });
    assert.deepEqual(await cache.invalidate({ pattern: 'users:?' }), { removed: 5, dryRun: false });
    assert.equal(await cache.get('usersx'), 1);
    assert.deepEqual(await cache.clearNamespace('posts'), { removed: 1, dryRun: false });
    assert.equal(await cache.get('posts:1'), undefined);
    await rejectsWith(cache.invalidate({ pattern: 'users:[a-z]' }), 'ROUTELENS_ERR_PATTERN_REJECTED');
    await rejectsWith(cache.keys({ pattern: '*'.repeat(9) }), 'ROUTELENS_ERR_PATTERN_REJECTED');
    assert.deepEqual(await cache.clearNamespace(''), { removed: 1, dryRun: false });
    const inv = cache.takeEvents().events.filter((e) => e.kind === 'invalidation');
    assert.deepEqual(
      inv.map((e) => e.invalidation),
      [
        { by: 'pattern', target: 'users:?', source: 'app', removed: 5 },
        { by: 'namespace', target: 'posts', source: 'app', removed: 1 },
        { by: 'clear', target: '*', source: 'app', removed: 1 },
      ],
    );
  });

  it('stampede: 50 concurrent getOrSet misses run the loader once', async () => {
    cache = createCache();
    let calls = 0;
    const loader = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return { v: 42 };
    };
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.getOrSet('k:1', loader)));
    assert.equal(calls, 1);
    assert.ok(results.every((r) => r.v === 42));
    assert.equal(cache.stats().loads.count, 1);
  });

  it('grace: serves stale while exactly one background refresh runs', async () => {
    const t = fakeClock();
    cache = createCache({ ttl: 100, grace: 10_000 }, { clock: t.clock });
    let calls = 0;
    let release!: () => void;
    const loader = () => {
      calls++;
      if (calls === 1) return 'v1';
      return new Promise<string>((r) => (release = () => r(`v${calls}`)));
    };
    assert.equal(await cache.getOrSet('g:1', loader), 'v1');
    t.advance(200);
    const stale = await Promise.all(Array.from({ length: 10 }, () => cache.getOrSet('g:1', loader)));
    assert.deepEqual(new Set(stale), new Set(['v1']));
    assert.equal(calls, 2, 'one refresh for ten stale reads');
    release();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(await cache.getOrSet('g:1', loader), 'v2');
    assert.equal(await cache.get('g:1'), 'v2');
  });

  it('grace: a failing loader serves stale; without grace it rejects with ROUTELENS_ERR_LOADER and the cause', async () => {
    const t = fakeClock();
    cache = createCache({ ttl: 100 }, { clock: t.clock });
    await cache.set('a:1', 'old');
    t.advance(150);
    const boom = new Error('db down');
    const err = await rejectsWith(cache.getOrSet('a:1', () => Promise.reject(boom)), 'ROUTELENS_ERR_LOADER');
    assert.equal(err.cause, boom);
    assert.match(err.message, /db down/);
    await cache.close();

    cache = createCache({ ttl: 100, grace: 1000 }, { clock: t.clock });
    await cache.getOrSet('a:1', () => 'old');
    t.advance(150);
    assert.equal(await cache.getOrSet('a:1', () => Promise.reject(boom)), 'old');
    await new Promise((r) => setImmediate(r));
    assert.equal(cache.stats().loads.errors, 1);
    t.advance(2000);
    await rejectsWith(cache.getOrSet('a:1', () => Promise.reject(boom)), 'ROUTELENS_ERR_LOADER');
  });

  it('refuses huge keys, cyclic and BigInt values with clear errors', async () => {
    cache = createCache();
    const huge = 'k'.repeat(1024 * 1024);
    const e1 = await rejectsWith(cache.set(huge, 1), 'ROUTELENS_ERR_INVALID_OPTION');
    assert.ok(e1.message.length < 500, 'the message does not carry the whole key');
    assert.match(e1.message, /limit is 4096/);
    await rejectsWith(cache.get(huge), 'ROUTELENS_ERR_INVALID_OPTION');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await rejectsWith(cache.set('c:1', cyclic), 'ROUTELENS_ERR_INVALID_OPTION');
    await rejectsWith(cache.set('c:2', { n: 10n }), 'ROUTELENS_ERR_INVALID_OPTION');
    // getOrSet still returns an uncacheable loaded value, uncached, with an error event.
    assert.equal(await cache.getOrSet('c:3', () => cyclic), cyclic);
    assert.equal(await cache.has('c:3'), false);
    assert.ok(cache.takeEvents().events.some((e) => e.kind === 'error' && e.key === 'c:3'));
    await rejectsWith(cache.set('c:4', 'x'.repeat(2 * 1024 * 1024)), 'ROUTELENS_ERR_INVALID_OPTION');
  });

  it('inspect truncates large values to 8 KiB and never throws', async () => {
    cache = createCache();
    await cache.set('big:1', { s: 'é'.repeat(50_000) });
    const info = await cache.inspect('big:1');
    assert.ok(info);
    assert.equal(info.truncated, true);
    assert.ok(info.value.length <= 8192);
    assert.equal(info.tier, 'l1');
    assert.equal(await cache.inspect('nope'), undefined);
  });

  it('keys() pages over L1 with a cursor', async () => {
    cache = createCache();
    for (let i = 0; i < 25; i++) await cache.set(`k:${i}`, i, { tags: ['t'] });
    await cache.set('other', 1);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await cache.keys({ pattern: 'k:*', limit: 10, cursor });
      seen.push(...page.keys.map((k) => k.key));
      assert.ok(page.keys.every((k) => k.namespace === 'k' && k.tier === 'l1' && k.size > 0));
      if (page.cursor === null) break;
      cursor = page.cursor;
    }
    assert.equal(new Set(seen).size, 25);
  });

  it('warmers load entries; unknown names are ROUTELENS_ERR_NOT_FOUND', async () => {
    cache = createCache({ warmers: { users: async () => [['users:1', { a: 1 }], ['users:2', 2, { ttl: 1000 }]] } });
    assert.deepEqual(await cache.warm('users'), { name: 'users', loaded: 2 });
    assert.deepEqual(await cache.get('users:1'), { a: 1 });
    await rejectsWith(cache.warm('nope'), 'ROUTELENS_ERR_NOT_FOUND');
    assert.deepEqual(cache.stats().warmers, ['users']);
  });

  it('warmOnStart runs warmers in the background', async () => {
    cache = createCache({ warmOnStart: true, warmers: { w: () => [['w:1', 1]] } });
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(await cache.get('w:1'), 1);
  });

  it('stats and events: hits, misses, sets, namespaces, routes, hot keys, window', async () => {
    const t = fakeClock();
    cache = createCache({}, { clock: t.clock });
    await cache.set('users:1', 1);
    await requestContext.run({ method: 'GET', route: '/users/:id', requestId: 'r1' }, async () => {
      for (let i = 0; i < 5; i++) await cache.get('users:1');
      await cache.get('users:2');
    });
    await cache.get('posts:1');
    const s = cache.stats();
    assert.equal(s.enabled, true);
    assert.equal(s.redis, 'none');
    assert.deepEqual(s.overall, { hits: 5, misses: 2, hitRate: 5 / 7 });
    assert.deepEqual(s.l1, { hits: 5, misses: 2, hitRate: 5 / 7, entries: 1, bytes: 1, maxEntries: 10_000, maxBytes: 50 * 1024 * 1024 });
    assert.equal(s.sets, 1);
    assert.deepEqual(s.window, { hits: 5, misses: 2, hitRate: 5 / 7 });
    assert.deepEqual(
      s.namespaces.find((n) => n.namespace === 'users'),
      { namespace: 'users', entries: 1, hits: 5, misses: 1, hitRate: 5 / 6 },
    );
    assert.deepEqual(s.routes, [{ route: 'GET /users/:id', hits: 5, misses: 1, hitRate: 5 / 6 }]);
    assert.deepEqual(s.hotKeys, [{ key: 'users:1', hits: 5 }]);
    t.advance(70_000);
    assert.deepEqual(cache.stats().window, { hits: 0, misses: 0, hitRate: 0 });
    const { events } = cache.takeEvents();
    assert.deepEqual(
      events.map((e) => e.kind),
      ['set', 'hit', 'hit', 'hit', 'hit', 'hit', 'miss', 'miss'],
    );
    assert.equal(events[1].route, 'GET /users/:id');
    assert.equal(events[1].tier, 'l1');
    assert.equal(cache.takeChanged(), true);
    assert.equal(cache.takeChanged(), false);
  });

  it('evictions are counted and reported when entries exceed maxEntries or maxBytes', async () => {
    cache = createCache({ maxEntries: 3 });
    for (let i = 0; i < 5; i++) await cache.set(`e:${i}`, i);
    assert.equal(cache.stats().evictions, 2);
    assert.equal(cache.takeEvents().events.filter((e) => e.kind === 'eviction').length, 2);
    await cache.close();
    cache = createCache({ maxBytes: 100 });
    for (let i = 0; i < 10; i++) await cache.set(`b:${i}`, 'x'.repeat(30));
    assert.ok(cache.stats().l1.bytes <= 100);
  });

  it('bounded under 100k random keys: entries, events, namespaces, routes, hot keys', async () => {
    cache = createCache({ maxEntries: 1000, maxEvents: 100 });
    for (let i = 0; i < 100_000; i++) {
      const ns = `ns${i % 500}`;
      const key = `${ns}:${Math.random().toString(36).slice(2)}`;
      await requestContext.run({ method: 'GET', route: `/r/${i % 400}`, requestId: String(i) }, async () => {
        await cache.set(key, i);
        await cache.get(key);
        await cache.get(`${key}x`);
      });
    }
    const s = cache.stats();
    assert.equal(s.l1.entries, 1000);
    assert.ok(s.namespaces.length <= 101, `namespaces ${s.namespaces.length}`);
    assert.ok(s.namespaces.some((n) => n.namespace === '(other)'));
    assert.ok(s.routes.length <= 201);
    assert.ok(s.hotKeys.length <= 20);
    const batch = cache.takeEvents();
    assert.equal(batch.events.length, 100);
    assert.ok(batch.dropped > 200_000);
  });

  it('heap levels off under a soak of random keys', async function () {
    this.timeout(60_000);
    const gc = runInNewContext('gc') as () => void;
    cache = createCache({ maxEntries: 2000 });
    const soak = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const key = `soak${i % 300}:${Math.random().toString(36).slice(2)}`;
        await cache.getOrSet(key, () => ({ i, pad: 'x'.repeat(100) }), { tags: [`t${i % 50}`] });
        if (i % 1000 === 0) await cache.invalidate({ tag: `t${i % 50}` });
      }
      cache.takeEvents();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const first = await soak(30_000);
    const second = await soak(90_000);
    assert.ok(second - first < 15 * 1024 * 1024, `heap grew ${((second - first) / 1048576).toFixed(1)} MiB`);
    assert.equal(cache.stats().l1.entries <= 2000, true);
  });

  it('a cache nothing was written to holds no entry storage; a write makes that priority’s only', async () => {
    const gc = runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      return process.memoryUsage().heapUsed;
    };
    const before = heap();
    // lru-cache allocates its arrays for `max` entries up front: 100,000 entries are ~1.6 MB per priority.
    const caches = Array.from({ length: 8 }, () => createCache({ maxEntries: 100_000 }));
    const idle = heap() - before;
    assert.ok(idle < 2 * 1024 * 1024, `8 unused caches hold ${(idle / 1048576).toFixed(1)} MiB`);
    for (const c of caches) await c.set('k', 1);
    const used = heap() - before;
    assert.ok(used > 8 * 1024 * 1024, `one priority's storage each once written (${(used / 1048576).toFixed(1)} MiB)`);
    assert.ok(used < 24 * 1024 * 1024, `only the written priority's (${(used / 1048576).toFixed(1)} MiB)`);
    await Promise.all(caches.map((c) => c.close()));
  });

  it('close(): calls reject with ROUTELENS_ERR_CLOSED', async () => {
    cache = createCache();
    await cache.close();
    await rejectsWith(cache.get('a'), 'ROUTELENS_ERR_CLOSED');
    await rejectsWith(cache.set('a', 1), 'ROUTELENS_ERR_CLOSED');
    assert.equal(cache.stats().enabled, false);
  });
});
