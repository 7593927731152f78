/**
 * Warmers on a schedule against a real redis-server: what a run writes reaches
 * the other instances through L2, runs never overlap, a slow run is cut at its
 * timeout and reported, the schedule stops on close(), and the environment
 * switch turns it off.
 */
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createCache, type Cache, type CacheOptions } from '../../../agent/cache';
import { startRedis, type TestRedis } from '../../support/redis';
import { sleep, until } from './wait';


describe('cache warmers on a schedule (real Redis)', function () {
  this.timeout(30_000);
  let redis: TestRedis;
  let raw: Redis;
  const caches: Cache[] = [];
  let n = 0;

  async function make(opts: CacheOptions = {}, env: NodeJS.ProcessEnv = {}): Promise<Cache> {
    const c = createCache({ redis: redis.url, timeout: 500, prefix: `w${n}:`, ...opts }, { env });
    caches.push(c);
    await until(() => c.stats().redis === 'ready');
    return c;
  }

  before(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  beforeEach(() => n++);
  afterEach(async () => {
    await Promise.all(caches.splice(0).map((c) => c.close()));
  });
  after(async () => {
    raw.disconnect();
    await redis.stop();
  });

  it('runs every `every` ms; each run reaches the other instances through L2 and is reported', async () => {
    let run = 0;
    const a = await make({ warmers: { prices: { every: 1000, load: () => [['prices:eur', ++run, { ttl: 60_000 }]] } } });
    const b = await make();
    assert.equal(a.stats().warming![0].runs, 0, 'no run at start without warmOnStart');
    assert.ok(a.stats().warming![0].nextRun! > Date.now());
    await until(async () => (await b.get('prices:eur')) === 1, 3000);
    assert.equal(await raw.exists(`w${n}:d:prices:eur`), 1);
    await until(async () => (await b.get('prices:eur')) === 2, 3000);
    const w = a.stats().warming![0];
    assert.equal(w.name, 'prices');
    assert.equal(w.every, 1000);
    assert.ok(w.runs >= 2);
    assert.equal(w.lastRun!.trigger, 'schedule');
    assert.equal(w.lastRun!.loaded, 1);
    assert.equal(w.lastRun!.error, undefined);
    assert.ok(w.lastRun!.duration < 1000);
    assert.deepEqual(b.stats().warming, [], 'b has no warmers');
  });

  it('runs never overlap: a run still going when the next is due makes it skip, and warm() joins it', async () => {
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const a = await make({
      warmers: {
        slow: {
          every: 1000,
          load: async () => {
            calls++;
            maxActive = Math.max(maxActive, ++active);
            await sleep(1600);
            active--;
            return [['slow:1', calls]];
          },
        },
      },
    });
    await until(() => calls === 1, 3000);
    const joined = await a.warm('slow');
    assert.deepEqual(joined, { name: 'slow', loaded: 1 });
    await sleep(1200);
    assert.equal(maxActive, 1);
    assert.ok(calls <= 2, `${calls} calls in ~3 s with runs of 1.6 s`);
    assert.equal(a.stats().warming![0].runs, calls);
  });

  it('a scheduled run is cut at its timeout, reported as an error event and in the stats', async () => {
    const a = await make({ warmers: { hang: { every: 1000, timeout: 100, load: () => new Promise(() => {}) } } });
    await until(() => a.stats().warming![0].lastRun !== undefined, 3000);
    const w = a.stats().warming![0];
    assert.equal(w.lastRun!.trigger, 'schedule');
    assert.match(w.lastRun!.error!, /timed out after 100 ms/);
    assert.ok(w.lastRun!.duration >= 90 && w.lastRun!.duration < 1000, `${w.lastRun!.duration} ms`);
    assert.equal(w.running, true, 'the hung call is still pending, so no new run starts');
    await sleep(1100);
    assert.equal(a.stats().warming![0].runs, 1);
    const errors = a.takeEvents().events.filter((e) => e.kind === 'error');
    assert.ok(errors.some((e) => /warmer "hang" failed: timed out/.test(e.message ?? '')));
  });

  it('close() stops the schedule; ROUTELENS_CACHE_WARM=0 never starts it', async () => {
    let calls = 0;
    const warmers = { tick: { every: 1000, load: () => (calls++, [['tick:1', calls]] as Array<[string, unknown]>) } };
    const a = await make({ warmers, warmOnStart: true });
    await until(() => calls === 1);
    await a.close();
    await sleep(1300);
    assert.equal(calls, 1, 'no run after close');
    assert.equal(a.stats().warming![0].nextRun, undefined);

    const off = await make({ warmers, warmOnStart: true }, { ROUTELENS_CACHE_WARM: '0' });
    await sleep(1300);
    assert.equal(calls, 1, 'neither at start nor on the schedule');
    assert.equal(off.stats().warming![0].nextRun, undefined);
    assert.deepEqual(await off.warm('tick'), { name: 'tick', loaded: 1 });
    assert.equal(calls, 2);
  });
});
