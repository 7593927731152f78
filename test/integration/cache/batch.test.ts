/**
 * getMany / setMany against a real redis-server: one round trip for what L1
 * lacks (counted as writes to the client's socket and as commands in
 * INFO commandstats), peers told once, and Redis down or frozen never fails
 * or slows a batch past the command budget.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createCache, type Cache } from '../../../agent/cache';
import { startRedis, type TestRedis } from '../../support/redis';
import { sleep, until } from './wait';


/** Counts writes to a connected ioredis client's socket: one write is one round trip's request. */
function countWrites(client: Redis): { count(): number; restore(): void } {
  const stream = (client as unknown as { stream: { write: (...a: unknown[]) => boolean } }).stream;
  const original = stream.write;
  let n = 0;
  stream.write = function (this: unknown, ...args: unknown[]) {
    n++;
    return original.apply(this, args);
  };
  return { count: () => n, restore: () => void (stream.write = original) };
}

/** Calls per command since the last CONFIG RESETSTAT. */
async function commandCalls(raw: Redis): Promise<Record<string, number>> {
  const info = await raw.info('commandstats');
  const out: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

describe('cache getMany / setMany (real Redis)', function () {
  this.timeout(30_000);
  let redis: TestRedis;
  let raw: Redis;
  const caches: Cache[] = [];
  const clients: Redis[] = [];
  let n = 0;

  async function make(opts: Parameters<typeof createCache>[0] = {}): Promise<{ cache: Cache; client: Redis }> {
    const client = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    client.on('error', () => {});
    clients.push(client);
    const cache = createCache({ redis: client, timeout: 300, prefix: `b${n}:`, ...opts });
    caches.push(cache);
    await until(() => cache.stats().redis === 'ready');
    return { cache, client };
  }

  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  beforeEach(() => n++);
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((c) => c.close()));
    for (const c of clients.splice(0)) c.disconnect();
  });
  after(async () => {
    raw.disconnect();
    await redis.stop();
  });

  it('setMany writes every entry in one round trip (a pipeline) and tells peers once', async () => {
    const { cache: a, client } = await make();
    const { cache: b } = await make();
    const entries: Array<[string, unknown, { ttl?: number; tags?: string[] }?]> = [];
    for (let i = 0; i < 50; i++) entries.push([`item:${i}`, { i }, i % 10 === 0 ? { ttl: 60_000, tags: ['tens'] } : { ttl: 60_000 }]);
    // b holds an old copy of one key in L1: the one message must drop it.
    await raw.set(`b${n}:d:item:1`, JSON.stringify({ e: 0, s: 0, c: 0, v: { i: 'old' } }));
    assert.deepEqual(await b.get('item:1'), { i: 'old' });
    await raw.config('RESETSTAT');
    const writes = countWrites(client);
    await a.setMany(entries);
    writes.restore();
    assert.equal(writes.count(), 1, 'one write to the socket');
    const calls = await commandCalls(raw);
    assert.equal(calls.eval, 5, 'the tagged ones through the tag script');
    assert.equal(calls.set, 50, '45 direct SETs and one inside each script');
    assert.equal(calls.publish, 1);
    assert.equal(await raw.exists(`b${n}:d:item:49`), 1);
    assert.ok((await raw.pttl(`b${n}:d:item:49`)) > 50_000);
    assert.equal(await raw.scard(`b${n}:t:tens`), 5);
    await until(async () => JSON.stringify(await b.get('item:1')) === '{"i":1}');
  });

  it('getMany serves L1 and asks L2 for the rest in one MGET', async () => {
    const { cache: a } = await make();
    for (let i = 0; i < 20; i++) await a.set(`user:${i}`, i, { ttl: 60_000 });
    // b starts after the writes: no peer invalidation still in flight can evict what it reads next.
    const { cache: b, client } = await make();
    await b.get('user:0'); // now in b's L1
    const keys = [...Array.from({ length: 20 }, (_, i) => `user:${i}`), 'user:absent', 'user:3'];
    await raw.config('RESETSTAT');
    const writes = countWrites(client);
    const values = await b.getMany(keys);
    writes.restore();
    assert.deepEqual(values, [...Array.from({ length: 20 }, (_, i) => i), undefined, 3]);
    assert.equal(writes.count(), 1, 'one write to the socket');
    const calls = await commandCalls(raw);
    assert.equal(calls.mget, 1);
    assert.equal(calls.get, undefined, 'no single GETs');
    // What MGET brought is in b's L1 now: a second batch needs no round trip at all.
    const again = countWrites(client);
    assert.deepEqual(await b.getMany(['user:5', 'user:6']), [5, 6]);
    again.restore();
    assert.equal(again.count(), 0);
    const s = b.stats();
    assert.equal(s.l2.hits, 21, 'user:0 once before, then 19 keys plus the repeated user:3');
    assert.equal(s.overall.misses, 1);
  });

  it('getMany honours ttl, tags invalidated elsewhere and an L1-skipping namespace', async () => {
    const { cache: a } = await make({ namespaces: { big: { l1: false } } });
    const { cache: b } = await make({ namespaces: { big: { l1: false } } });
    await a.setMany([
      ['big:1', 'x'],
      ['t:1', 1, { ttl: 100 }],
      ['g:1', 1, { tags: ['grp'] }],
    ]);
    assert.deepEqual(await b.getMany(['big:1', 'g:1']), ['x', 1]);
    assert.equal(b.stats().l1.entries, 1, 'big:* stays out of L1');
    await a.invalidate({ tag: 'grp' });
    await until(async () => (await b.getMany(['g:1']))[0] === undefined);
    await sleep(150);
    assert.deepEqual(await b.getMany(['t:1']), [undefined]);
  });

  describe('with Redis down or frozen', () => {
    let own: TestRedis;
    before(async () => {
      own = await startRedis();
    });
    after(async () => own.stop());

    it('getMany answers from L1 and setMany writes L1, neither throws nor waits on a down Redis, and writes reach Redis again once it is back', async () => {
      const client = new Redis(own.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
      client.on('error', () => {});
      clients.push(client);
      const cache = createCache({ redis: client, timeout: 200, prefix: 'down:' });
      caches.push(cache);
      await until(() => cache.stats().redis === 'ready');
      await cache.setMany([
        ['a:1', 1],
        ['a:2', 2],
      ]);
      const direct = new Redis(own.url);
      assert.equal(await direct.exists('down:d:a:1'), 1);
      direct.disconnect();

      await own.kill();
      await until(() => cache.stats().redis === 'down');
      let started = Date.now();
      assert.deepEqual(await cache.getMany(['a:1', 'a:2', 'a:3']), [1, 2, undefined]);
      assert.ok(Date.now() - started < 200, 'no wait on a known-down Redis');
      started = Date.now();
      await cache.setMany([
        ['a:3', 3],
        ['a:1', 10],
      ]);
      assert.ok(Date.now() - started < 200);
      assert.deepEqual(await cache.getMany(['a:1', 'a:3']), [10, 3]);

      await own.restart();
      await until(() => cache.stats().redis === 'ready', 10_000);
      await cache.setMany([['a:4', 4]]);
      const after = new Redis(own.url);
      assert.equal(await after.exists('down:d:a:4'), 1);
      after.disconnect();
    });

    it('a frozen Redis: getMany and setMany return within the command budget and the breaker opens', async () => {
      const client = new Redis(own.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      clients.push(client);
      const cache = createCache({ redis: client, timeout: 150, prefix: 'frozen:', breaker: { threshold: 2, cooldown: 60_000 } });
      caches.push(cache);
      await until(() => cache.stats().redis === 'ready', 10_000);
      await cache.set('f:1', 1);
      own.freeze();
      try {
        for (let i = 0; i < 3; i++) {
          const started = Date.now();
          assert.deepEqual(await cache.getMany([`f:1`, `f:missing${i}`]), [1, undefined]);
          await cache.setMany([[`f:new${i}`, i]]);
          assert.ok(Date.now() - started < 1000, `round ${i}: ${Date.now() - started} ms`);
        }
        assert.equal(cache.stats().redis, 'down', 'the breaker opened');
        assert.ok(cache.stats().l2.errors >= 2);
        assert.deepEqual(await cache.getMany(['f:new0', 'f:new2']), [0, 2]);
      } finally {
        own.thaw();
      }
    });
  });
});
