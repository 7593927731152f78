/**
 * Both tiers against a real redis-server whose KEYS command is renamed away:
 * any KEYS call would fail, so every pattern operation here proves SCAN.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createCache, type Cache } from '../../../agent/cache';
import { startRedis, type TestRedis } from '../../support/redis';
import { sleep, until } from './wait';


describe('cache tiers (real Redis, KEYS disabled)', function () {
  this.timeout(30000);
  let redis: TestRedis;
  let raw: Redis;
  const caches: Cache[] = [];
  let n = 0;

  async function make(opts: Parameters<typeof createCache>[0] = {}): Promise<Cache> {
    const c = createCache({ redis: redis.url, timeout: 500, prefix: `t${n}:`, ...opts });
    caches.push(c);
    await until(() => c.stats().redis === 'ready');
    return c;
  }

  before(async () => {
    redis = await startRedis({ extraArgs: ['--rename-command', 'KEYS', ''] });
    raw = new Redis(redis.url);
  });
  beforeEach(() => {
    n++;
  });
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((c) => c.close()));
  });
  after(async () => {
    raw.disconnect();
    await redis.stop();
  });

  it('KEYS really is disabled in this Redis', async () => {
    await assert.rejects(raw.keys('*'));
  });

  it('a value set on one instance is read from L2 by another, then from its L1', async () => {
    const a = await make();
    const b = await make();
    await a.set('users:1', { name: 'ada' }, { ttl: 10_000 });
    assert.ok(await raw.exists(`t${n}:d:users:1`));
    assert.deepEqual(await b.get('users:1'), { name: 'ada' });
    assert.deepEqual(await b.get('users:1'), { name: 'ada' });
    const tiers = b.takeEvents().events.filter((e) => e.kind === 'hit').map((e) => e.tier);
    assert.deepEqual(tiers, ['l2', 'l1']);
    const s = b.stats();
    assert.equal(s.l2.hits, 1);
    assert.equal(s.l1.hits, 1);
    assert.equal(s.redis, 'ready');
  });

  it('L2 entries expire with their ttl (plus grace)', async () => {
    const a = await make();
    await a.set('tmp:1', 1, { ttl: 150 });
    const pttl = await raw.pttl(`t${n}:d:tmp:1`);
    assert.ok(pttl > 0 && pttl <= 150, `pttl ${pttl}`);
    await sleep(300);
    assert.equal(await raw.exists(`t${n}:d:tmp:1`), 0);
    const b = await make();
    assert.equal(await b.get('tmp:1'), undefined);
  });

  it('set on one instance evicts the stale L1 copy on the other (key-only pub/sub)', async () => {
    const a = await make();
    const b = await make();
    await a.set('cfg:1', 'v1');
    assert.equal(await b.get('cfg:1'), 'v1'); // now in b's L1
    await a.set('cfg:1', 'v2');
    await until(async () => (await b.get('cfg:1')) === 'v2');
    await a.delete('cfg:1');
    await until(async () => (await b.get('cfg:1')) === undefined);
  });

  it('two instances invalidate each other by key, tag and pattern', async () => {
    const a = await make();
    const b = await make();
    await a.set('users:1', 1, { tags: ['team:red'] });
    await a.set('users:2', 2, { tags: ['team:red'] });
    await a.set('posts:1', 3);
    await a.set('posts:2', 4);
    for (const k of ['users:1', 'users:2', 'posts:1', 'posts:2']) assert.notEqual(await b.get(k), undefined);

    assert.deepEqual(await b.invalidate({ tag: 'team:red' }, { dryRun: true }), { removed: 2, dryRun: true });
    assert.deepEqual(await b.invalidate({ tag: 'team:red' }), { removed: 2, dryRun: false });
    await until(async () => (await a.get('users:1')) === undefined && (await a.get('users:2')) === undefined);
    assert.equal(await raw.exists(`t${n}:t:team:red`), 0, 'the tag set is removed');

    assert.deepEqual(await a.invalidate({ pattern: 'posts:*' }), { removed: 2, dryRun: false });
    await until(async () => (await b.get('posts:1')) === undefined && (await b.get('posts:2')) === undefined);

    await a.set('k:1', 1);
    assert.equal(await b.get('k:1'), 1);
    assert.deepEqual(await a.invalidate({ key: 'k:1' }, { source: 'editor' }), { removed: 1, dryRun: false });
    await until(async () => (await b.get('k:1')) === undefined);
    const peer = b.takeEvents().events.filter((e) => e.kind === 'invalidation' && e.invalidation?.source === 'peer');
    assert.deepEqual(
      peer.map((e) => e.invalidation?.by),
      ['pattern', 'key'],
    );
  });

  it('pattern invalidation never leaves the prefix: foreign keys survive', async () => {
    const c = await make({ prefix: 'we*ird:' });
    await c.set('users:1', 1);
    await raw.set('weXird:d:users:1', 'foreign-glob-lookalike');
    await raw.set('foreign:users:1', 'foreign');
    await raw.set('users:1', 'bare');
    assert.deepEqual(await c.invalidate({ pattern: '*' }), { removed: 1, dryRun: false });
    assert.equal(await raw.get('weXird:d:users:1'), 'foreign-glob-lookalike');
    assert.equal(await raw.get('foreign:users:1'), 'foreign');
    assert.equal(await raw.get('users:1'), 'bare');
    await c.set('users:2', 2, { tags: ['t1'] });
    assert.equal(await raw.exists('we*ird:t:t1'), 1);
    assert.deepEqual(await c.clearNamespace(''), { removed: 1, dryRun: false });
    assert.equal(await raw.exists('we*ird:t:t1'), 0, 'clearing everything drops the tag sets too');
    assert.equal(await raw.get('weXird:d:users:1'), 'foreign-glob-lookalike');
  });

  it('pattern scans are batched, dry runs count only, and the time box reports partial progress', async () => {
    const c = await make({ scanBudget: 1 });
    const p = raw.pipeline();
    for (let i = 0; i < 20_000; i++) p.set(`t${n}:d:bulk:${i}`, '{"v":1}');
    await p.exec();
    const dry = await c.invalidate({ pattern: 'bulk:*' }, { dryRun: true });
    assert.equal(dry.partial, true);
    assert.equal(await raw.dbsize() >= 20_000, true, 'dry run removed nothing');
    const first = await c.invalidate({ pattern: 'bulk:*' });
    assert.equal(first.partial, true);
    assert.ok(first.removed > 0 && first.removed < 20_000, `removed ${first.removed}`);
    const d = await make({ prefix: `t${n}:` });
    let left = 20_000 - first.removed;
    const done = await d.invalidate({ pattern: 'bulk:*' });
    assert.equal(done.partial, undefined);
    assert.equal(done.removed, left);
    left = 0;
    const count = await raw.scan('0', 'MATCH', `t${n}:d:bulk:*`, 'COUNT', 100000);
    assert.equal(count[1].length, left);
  });

  it('keys() pages through L2 with SCAN cursors; inspect reads L2', async () => {
    const a = await make();
    for (let i = 0; i < 30; i++) await a.set(`list:${i}`, { i }, { ttl: 60_000 });
    const b = await make();
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await b.keys({ pattern: 'list:*', limit: 7, cursor });
      for (const k of page.keys) {
        seen.add(k.key);
        assert.equal(k.namespace, 'list');
        assert.equal(k.tier, 'l2');
        assert.ok(k.size > 0 && k.ttl !== undefined && k.ttl > 0);
      }
      if (page.cursor === null) break;
      cursor = page.cursor;
    }
    assert.equal(seen.size, 30);
    const info = await b.inspect('list:3');
    assert.equal(info?.value, '{"i":3}');
    assert.equal(info?.tier, 'l2');
  });

  it('stampede: 50 concurrent getOrSet on a cold key run the loader once', async () => {
    const a = await make();
    let calls = 0;
    const values = await Promise.all(
      Array.from({ length: 50 }, () =>
        a.getOrSet('hot:1', async () => {
          calls++;
          await sleep(30);
          return 'loaded';
        }),
      ),
    );
    assert.equal(calls, 1);
    assert.ok(values.every((v) => v === 'loaded'));
    assert.ok(await raw.exists(`t${n}:d:hot:1`));
  });

  it('stale-while-revalidate across tiers: a second instance serves the stale L2 value and refreshes once', async () => {
    const a = await make({ grace: 10_000 });
    await a.getOrSet('sw:1', () => 'v1', { ttl: 100 });
    await sleep(200);
    const b = await make({ grace: 10_000 });
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(50);
      return 'v2';
    };
    const stale = await Promise.all(Array.from({ length: 5 }, () => b.getOrSet('sw:1', loader, { ttl: 10_000 })));
    assert.deepEqual(stale, ['v1', 'v1', 'v1', 'v1', 'v1']);
    await until(async () => (await b.get('sw:1')) === 'v2');
    assert.equal(calls, 1);
    await until(async () => (await a.get('sw:1')) === 'v2');
  });

  it('compresses large L2 payloads when compressAbove is set', async () => {
    const a = await make({ compressAbove: 100 });
    const big = { text: 'abc'.repeat(10_000) };
    await a.set('z:1', big);
    const stored = await raw.getBuffer(`t${n}:d:z:1`);
    assert.ok(stored && stored[0] === 0x1f && stored[1] === 0x8b, 'gzip magic');
    assert.ok(stored.length < 2000);
    const b = await make();
    assert.deepEqual(await b.get('z:1'), big);
  });

  it('an ioredis client can be passed in; close() leaves it open and removes our listeners', async () => {
    const client = new Redis(redis.url);
    client.on('error', () => {});
    await until(() => client.status === 'ready');
    const before = ['ready', 'close', 'end', 'error'].map((e) => client.listenerCount(e));
    const c = createCache({ redis: client, prefix: `t${n}:` });
    await until(() => c.stats().redis === 'ready');
    await c.set('x:1', 1);
    assert.equal(await raw.exists(`t${n}:d:x:1`), 1);
    await c.close();
    assert.deepEqual(['ready', 'close', 'end', 'error'].map((e) => client.listenerCount(e)), before);
    assert.equal(await client.ping(), 'PONG');
    client.disconnect();
  });

  it('hostile or malformed messages on the channel are ignored; a rejected pattern flushes L1 instead', async () => {
    const a = await make();
    await a.set('m:1', 1);
    const channel = `t${n}:invalidations`;
    for (const msg of ['not json', 'null', '[]', '{"k":["m:1"]}', '{"i":5}', '{"i":"x","k":[1,{}]}', '{"i":"x","t":{}}', '{"i":"x","__proto__":{"polluted":1}}']) {
      await raw.publish(channel, msg);
    }
    await sleep(100);
    assert.equal(await a.get('m:1'), 1, 'nothing valid was invalidated');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(a.takeEvents().events.filter((e) => e.kind === 'hit' && e.tier === 'l1').length, 1);
    await raw.publish(channel, JSON.stringify({ i: 'x', p: 'm:[a-z]' }));
    await sleep(100);
    assert.equal(await a.get('m:1'), 1, 'still served, now from L2');
    assert.deepEqual(
      a.takeEvents().events.filter((e) => e.kind === 'hit').map((e) => e.tier),
      ['l2'],
    );
  });
  it('a namespace with l1: false lives in L2 only, except keys read from L2 more than hotKeys.threshold times a minute', async () => {
    const opts = { namespaces: { big: { l1: false } }, hotKeys: { threshold: 5 }, l1Ttl: 300 };
    const a = await make(opts);
    const b = await make(opts);
    await a.set('big:hot', 'h');
    await a.set('big:cold', 'c');
    await a.set('small:1', 's');
    assert.equal(a.stats().l1.entries, 1, 'only small:1 is in the writer\'s L1');
    const tiers = () => b.takeEvents().events.filter((e) => e.kind === 'hit').map((e) => e.tier);
    for (let i = 0; i < 2; i++) assert.equal(await b.get('big:cold'), 'c');
    for (let i = 0; i < 8; i++) assert.equal(await b.get('big:hot'), 'h');
    assert.deepEqual(tiers(), [...Array(8).fill('l2'), 'l1', 'l1'], 'two cold reads, then big:hot is copied into L1 on its sixth L2 read');
    assert.equal(b.stats().promotions, 1);
    assert.equal(b.stats().l1.entries, 1, 'big:cold stayed out');
    // Past the L1 backstop the copy is re-read from L2; its L1 hits count, so it stays promoted.
    await sleep(350);
    for (let i = 0; i < 2; i++) assert.equal(await b.get('big:hot'), 'h');
    assert.deepEqual(tiers(), ['l2', 'l1']);
    // A promoted copy is still invalidated by its peers.
    await a.set('big:hot', 'h2');
    await until(async () => (await b.get('big:hot')) === 'h2');
  });
});
