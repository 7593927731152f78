/**
 * Redis store against a private, real redis-server: shared limits across
 * instances, NOSCRIPT, Redis killed / restarted / frozen with both failure
 * policies.
 */
import assert from 'node:assert/strict';
import express5 from 'express';
import express4 from 'express4';
import type { Request } from 'express';
import { Redis } from 'ioredis';
import { ALGORITHMS } from '../../../agent/ratelimit/algorithms';
import { TIMEOUT_COOLDOWN_MS } from '../../../agent/ratelimit/redis-store';
import { createRateLimits, type RateLimitOptions } from '../../../agent/ratelimit';
import { ProtocolError } from '../../../protocol';
import { freePort } from '../../support/redis';
import { type Hit, fakeClock, hit, hits, recordingDiag, redisSuite, serve, sleep, waitFor } from './helpers';

const keyOf = (req: Request) => String(req.headers['x-k'] ?? 'anon');
/** Every request of these tests must be answered within this (the Redis budget is 50 ms; the box is loaded). */
const ANSWER_BOUND_MS = 2500;

describe('ratelimit Redis store (real redis-server)', function () {
  this.timeout(60_000);
  const suite = redisSuite();
  const { served, limits } = suite;
  async function instance(options: RateLimitOptions, opts: { express4?: boolean; redis?: string | Redis; clock?: () => number } = {}) {
    const rec = recordingDiag();
    const rl = createRateLimits({ diag: rec.diag, redis: opts.redis ?? suite.redis.url, clock: opts.clock });
    limits.push(rl);
    const app = opts.express4 ? (express4() as unknown as ReturnType<typeof express5>) : express5();
    app.use(rl.create({ key: keyOf, ...options }));
    const counts = { handled: 0, appErrors: 0 };
    app.get('/', (_req, res) => {
      counts.handled++;
      res.send('ok');
    });
    app.use((err: unknown, _req: Request, res: import('express').Response, _next: import('express').NextFunction) => {
      counts.appErrors++;
      res.status(500).send(String(err));
    });
    const s = await serve(app);
    served.push(s);
    return { rl, url: s.url, counts, ...rec };
  }

  let probes = 0;
  /** Waits until the limiter counts in Redis (its connection is ready). */
  async function redisReady(url: string, prefix: string): Promise<void> {
    await waitFor('the limiter to count in Redis', async () => {
      const k = `probe-${++probes}`;
      await hit(url, { 'x-k': k });
      try {
        return (await suite.admin.exists(prefix + k)) === 1;
      } catch {
        return false;
      }
    });
  }

  for (const algorithm of ALGORITHMS) {
    it(`two instances share one ${algorithm} limit under concurrent load: exactly max allowed`, async () => {
      const name = `shared-${algorithm}`;
      const options: RateLimitOptions = { name, max: 25, windowMs: 3_600_000, algorithm, timeout: 2000 };
      const client = new Redis(suite.redis.url);
      client.on('error', () => {});
      try {
        const a = await instance(options);
        const b = await instance(options, { express4: true, redis: client });
        await redisReady(a.url, `routelens:rl:${name}:`);
        await redisReady(b.url, `routelens:rl:${name}:`);
        const errorsBefore = [a.rl.list()[0].storeErrors, b.rl.list()[0].storeErrors];
        const results = await Promise.all(Array.from({ length: 100 }, (_, i) => hit(i % 2 ? a.url : b.url, { 'x-k': 'client' })));
        const statuses = results.map((r) => r.status);
        assert.equal(statuses.filter((s) => s === 200).length, 25);
        assert.equal(statuses.filter((s) => s === 429).length, 75);
        assert.deepEqual([a.rl.list()[0].storeErrors, b.rl.list()[0].storeErrors], errorsBefore, 'no store error under load');
        await b.rl.close();
        assert.equal(await client.ping(), 'PONG', 'the client passed in is duplicated, never closed');
      } finally {
        client.disconnect();
      }
    });
  }

  it('headers come from the shared count; NOSCRIPT after SCRIPT FLUSH is handled without a store error or a double count', async () => {
    for (const algorithm of ALGORITHMS) {
      const name = `noscript-${algorithm}`;
      const { url, rl } = await instance({ name, max: 5, windowMs: 3_600_000, algorithm, timeout: 1000 });
      await redisReady(url, `routelens:rl:${name}:`);
      const errorsBefore = rl.list()[0].storeErrors;
      await hits(url, 2, { 'x-k': 'n' });
      await suite.admin.script('FLUSH');
      const r = await hit(url, { 'x-k': 'n' });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('ratelimit'), `"${name}"; r=2; t=${algorithm === 'fixed-window' ? 3600 : r.headers.get('ratelimit')?.split('t=')[1]}`, algorithm);
      assert.deepEqual(await hits(url, 3, { 'x-k': 'n' }), [200, 200, 429], algorithm);
      assert.equal(rl.list()[0].storeErrors, errorsBefore, algorithm);
    }
    assert.equal(await suite.admin.get('routelens:rl:noscript-fixed-window:n'), '6');
  });

  it('setMax() and resetKey() take effect in Redis mode', async () => {
    const { url, rl } = await instance({ name: 'cmd-redis', max: 2, timeout: 1000 });
    await redisReady(url, 'routelens:rl:cmd-redis:');
    assert.deepEqual(await hits(url, 3, { 'x-k': 'c' }), [200, 200, 429]);
    assert.deepEqual(await rl.resetKey('cmd-redis', 'c'), { reset: true });
    assert.equal(await suite.admin.exists('routelens:rl:cmd-redis:c'), 0);
    assert.deepEqual(await hits(url, 3, { 'x-k': 'c' }), [200, 200, 429]);
    rl.setMax('cmd-redis', 5);
    assert.deepEqual(await hits(url, 3, { 'x-k': 'c' }), [200, 200, 429], 'hits 4 and 5 fit under the new max');
    await assert.rejects(rl.resetKey('missing', 'c'), (e: unknown) => e instanceof ProtocolError && e.code === 'ERR_NOT_FOUND');
  });

  /** Runs `workers` request loops until stopped; returns every answer. */
  function load(url: string, workers: number) {
    const answers: Hit[] = [];
    let running = true;
    const loops = Array.from({ length: workers }, async (_, w) => {
      while (running) answers.push(await hit(url, { 'x-k': `load-${w}` }));
    });
    return {
      answers,
      stop: async () => {
        running = false;
        await Promise.all(loops);
        return answers;
      },
    };
  }

  for (const policy of ['memory', 'fail-open'] as const) {
    it(`Redis killed and restarted mid-load (onStoreError '${policy}'): no 500, bounded answers, ${policy === 'memory' ? 'limits in memory' : 'allows'} during the outage, recovers, no double count`, async () => {
      const name = `outage-${policy}`;
      const prefix = `routelens:rl:${name}:`;
      const { url, rl, warnings, counts } = await instance({ name, max: 5, windowMs: 60_000, onStoreError: policy });
      await redisReady(url, prefix);
      const handledBefore = counts.handled;
      const bg = load(url, 6);
      await sleep(300);
      await suite.redis.kill();
      await sleep(300);
      const during = await hits(url, 8, { 'x-k': 'outage' });
      if (policy === 'memory') assert.deepEqual(during, [200, 200, 200, 200, 200, 429, 429, 429]);
      else assert.deepEqual(during, [200, 200, 200, 200, 200, 200, 200, 200]);
      await suite.redis.restart();
      await redisReady(url, prefix);
      const answers = await bg.stop();
      assert.ok(answers.length > 20, `load ran (${answers.length} answers)`);
      assert.deepEqual([...new Set(answers.map((a) => a.status))].filter((s) => s !== 200 && s !== 429), [], 'only 200 and 429');
      const slowest = Math.max(...answers.map((a) => a.ms));
      assert.ok(slowest < ANSWER_BOUND_MS, `slowest answer ${slowest.toFixed(0)} ms`);
      const oks = answers.filter((a) => a.status === 200).length + during.filter((x) => x === 200).length;
      assert.ok(counts.handled - handledBefore >= oks, 'every 200 came from the route handler');
      assert.equal(counts.appErrors, 0, 'no error reached the app (no double response, no store error)');
      const st = rl.list()[0];
      assert.ok(st.storeErrors >= 8, `storeErrors ${st.storeErrors}`);
      assert.equal(warnings.filter((w) => w.includes('ROUTELENS_WARN_RATE_LIMIT_STORE') && w.includes(`"${name}"`)).length, 1, 'reported once');
      // After recovery every request is counted once in Redis.
      const after = await hits(url, 3, { 'x-k': 'after' });
      assert.deepEqual(after, [200, 200, 200]);
      assert.equal(await suite.admin.get(prefix + 'after'), '3');
    });
  }

  it('counting commands in flight when the connection drops are not resent after the reconnect (no double count)', async () => {
    const name = 'resend';
    const prefix = `routelens:rl:${name}:`;
    // A generous budget so the commands are still in flight when Redis dies.
    const { url } = await instance({ name, max: 100, timeout: 3000 });
    await redisReady(url, prefix);
    // Keep the server busy (a 1.5 s script) so our counting commands wait, unanswered, in its socket buffer.
    const busy = `local s = suite.redis.call('TIME') while true do local n = suite.redis.call('TIME') if (n[1]-s[1])*1000000 + (n[2]-s[2]) > 1500000 then break end end return 1`;
    void suite.admin.eval(busy, 0).catch(() => {});
    await sleep(100);
    const inFlight = Promise.all(Array.from({ length: 5 }, () => hit(url, { 'x-k': 'r' })));
    await sleep(300);
    await suite.redis.kill();
    const answers = await inFlight;
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200],
      'answered by the insurance limiter',
    );
    await suite.redis.restart();
    await redisReady(url, prefix);
    await sleep(300);
    assert.equal(await suite.admin.get(prefix + 'r'), null, 'nothing resent after the reconnect');
    assert.equal((await hit(url, { 'x-k': 'r' })).status, 200);
    assert.equal(await suite.admin.get(prefix + 'r'), '1');
  });

  for (const policy of ['memory', 'fail-open'] as const) {
    it(`Redis frozen (onStoreError '${policy}'): answers within the timeout budget, one command sent per cooldown, back to Redis after thaw`, async () => {
      const name = `frozen-${policy}`;
      const prefix = `routelens:rl:${name}:`;
      const t = fakeClock(Date.now());
      const { url, rl } = await instance({ name, max: 3, timeout: 50, onStoreError: policy }, { clock: t.clock });
      await redisReady(url, prefix);
      suite.redis.freeze();
      const answers: Hit[] = [];
      for (let i = 0; i < 5; i++) answers.push(await hit(url, { 'x-k': 'fz' }));
      suite.redis.thaw();
      assert.deepEqual(
        answers.map((a) => a.status),
        policy === 'memory' ? [200, 200, 200, 429, 429] : [200, 200, 200, 200, 200],
      );
      const slowest = Math.max(...answers.map((a) => a.ms));
      assert.ok(slowest < ANSWER_BOUND_MS, `slowest ${slowest.toFixed(0)} ms`);
      assert.ok(rl.list()[0].storeErrors >= 5);
      await sleep(300);
      // Only the first request's command was sent (it runs now that Redis resumed); the breaker skipped the rest.
      assert.equal(await suite.admin.get(prefix + 'fz'), '1');
      t.now += TIMEOUT_COOLDOWN_MS;
      await redisReady(url, prefix);
      assert.deepEqual(await hits(url, 2, { 'x-k': 'thawed' }), [200, 200]);
      assert.equal(await suite.admin.get(prefix + 'thawed'), '2');
    });
  }

  it('flapping Redis: no 500, one connection kept (no leak), counts exact once it settles', async () => {
    const name = 'flap';
    const prefix = `routelens:rl:${name}:`;
    const { url, rl } = await instance({ name, max: 1000 });
    await redisReady(url, prefix);
    const bg = load(url, 4);
    for (let i = 0; i < 3; i++) {
      await sleep(150);
      await suite.redis.kill();
      await sleep(150);
      await suite.redis.restart();
      await redisReady(url, prefix);
    }
    const answers = await bg.stop();
    assert.deepEqual([...new Set(answers.map((a) => a.status))], [200]);
    assert.ok(Math.max(...answers.map((a) => a.ms)) < ANSWER_BOUND_MS);
    assert.ok(rl.list()[0].storeErrors > 0);
    await hits(url, 4, { 'x-k': 'settled' });
    assert.equal(await suite.admin.get(prefix + 'settled'), '4');
    const clients = (await suite.admin.client('LIST')) as string;
    assert.equal(clients.split('\n').filter((l) => l.includes('name=routelens-ratelimit')).length, 1, 'one limiter connection');
  });

  it('Redis down from the start: the insurance limiter counts, errors are counted and reported once', async () => {
    const port = await freePort();
    const { url, rl, warnings } = await instance({ name: 'never-up', max: 2 }, { redis: `redis://127.0.0.1:${port}` });
    const answers: Hit[] = [];
    for (let i = 0; i < 4; i++) answers.push(await hit(url, { 'x-k': 'd' }));
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 429, 429],
    );
    assert.ok(Math.max(...answers.map((a) => a.ms)) < ANSWER_BOUND_MS);
    assert.equal(rl.list()[0].storeErrors, 4);
    assert.equal(warnings.filter((w) => w.includes('ROUTELENS_WARN_RATE_LIMIT_STORE') && w.includes('"never-up"')).length, 1);
    await assert.rejects(rl.resetKey('never-up', 'd'), (e: unknown) => e instanceof ProtocolError && e.code === 'ERR_UNAVAILABLE');
  });
});
