/**
 * A limiter used from code (limiter.check / limiter.consume) against a real
 * Express app and a private, real redis-server: counting, sharing counts with
 * the limiter's middleware, the onStoreError policy when Redis is down or
 * frozen, and the stats.
 */
import assert from 'node:assert/strict';
import express from 'express';
import type { Request } from 'express';
import { createAgent } from '../../../agent';
import { RouteLensError } from '../../../agent/errors';
import { ALGORITHMS } from '../../../agent/ratelimit/algorithms';
import { CODE_ROUTE } from '../../../agent/ratelimit/code';
import { type RateLimitMiddleware, type RateLimitOptions, createRateLimits } from '../../../agent/ratelimit';
import { hit, hits, recordingDiag, redisSuite, serve, waitFor } from './helpers';

const keyOf = (req: Request) => String(req.headers['x-k'] ?? 'anon');

describe('ratelimit from code: limiter.check / limiter.consume (real Express, real redis-server)', function () {
  this.timeout(60_000);
  const suite = redisSuite();
  const { served, limits } = suite;
  /** A limiter on a real Express app (`GET /` behind its middleware, keyed by the x-k header). */
  async function mounted(options: RateLimitOptions, store: 'redis' | 'memory' = 'redis') {
    const rec = recordingDiag();
    const rl = createRateLimits({ diag: rec.diag, redis: store === 'redis' ? suite.redis.url : undefined });
    limits.push(rl);
    const limiter = rl.create({ key: keyOf, ...options });
    const app = express();
    app.use(limiter);
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const s = await serve(app);
    served.push(s);
    return { rl, limiter, url: s.url, ...rec };
  }

  /** Waits until the limiter's Redis connection answers (consume no longer falls back). */
  async function redisReady(limiter: RateLimitMiddleware): Promise<void> {
    let probes = 0;
    await waitFor('the limiter to count in Redis', async () => (await limiter.check(`probe-${++probes}`)).fallback === undefined);
  }

  for (const algorithm of ALGORITHMS) {
    it(`${algorithm} in Redis: check counts nothing; consume counts and refuses past max`, async () => {
      const name = `code-${algorithm}`;
      const { limiter } = await mounted({ name, max: 3, windowMs: 60_000, algorithm, timeout: 1000 });
      await redisReady(limiter);
      for (let i = 0; i < 5; i++) assert.deepEqual(await limiter.check('u'), { allowed: true, limit: 3, remaining: 3, resetMs: 0 });
      assert.equal(await suite.admin.exists(`routelens:rl:${name}:u`), 0, 'a check writes nothing to Redis');
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await limiter.consume('u'));
      assert.deepEqual(
        answers.map((a) => [a.allowed, a.remaining]),
        [[true, 2], [true, 1], [true, 0], [false, 0]],
      );
      assert.ok(answers.every((a) => a.fallback === undefined && a.limit === 3));
      // A sliding window frees a slot only once enough of the hits slide out:
      // near the end of an aligned window that is in the next one (≤ 2 windows).
      const longestWait = algorithm === 'sliding-window' ? 120_000 : 60_000;
      assert.ok(answers[3].resetMs > 0 && answers[3].resetMs <= longestWait, `refused: resetMs ${answers[3].resetMs}`);
      assert.equal(await suite.admin.exists(`routelens:rl:${name}:u`), 1, 'counted in Redis');
      const refused = await limiter.check('u');
      assert.equal(refused.allowed, false);
      assert.equal(refused.remaining, 0);
      assert.ok(refused.resetMs > 0 && refused.resetMs <= longestWait, `check: resetMs ${refused.resetMs}`);
      assert.deepEqual(await limiter.check('other'), { allowed: true, limit: 3, remaining: 3, resetMs: 0 }, 'keys are independent');
    });
  }

  it('consume(key, points) counts that many; check(key, points) says whether they fit', async () => {
    const { limiter } = await mounted({ name: 'code-points', max: 10, windowMs: 60_000, algorithm: 'sliding-window', timeout: 1000 });
    await redisReady(limiter);
    assert.equal((await limiter.consume('p', 7)).remaining, 3);
    const tooMany = await limiter.check('p', 4);
    assert.equal(tooMany.allowed, false);
    assert.equal(tooMany.remaining, 3);
    assert.equal((await limiter.check('p', 3)).allowed, true);
    assert.equal((await limiter.consume('p', 4)).allowed, false, 'refused points do not fit');
    assert.deepEqual([(await limiter.consume('p', 3)).allowed, (await limiter.consume('p')).allowed], [true, false]);
  });

  for (const store of ['redis', 'memory'] as const) {
    it(`shares counts with the limiter's middleware (${store} store)`, async () => {
      const name = `code-shared-${store}`;
      const { limiter, url, rl } = await mounted({ name, max: 5, windowMs: 60_000, timeout: 1000 }, store);
      if (store === 'redis') await redisReady(limiter);
      assert.deepEqual(await hits(url, 2, { 'x-k': 'alice' }), [200, 200]);
      assert.equal((await limiter.check('alice')).remaining, 3, 'the requests are seen from code');
      assert.equal((await limiter.consume('alice', 2)).remaining, 1);
      const last = await hit(url, { 'x-k': 'alice' });
      assert.equal(last.status, 200);
      assert.match(last.headers.get('ratelimit') ?? '', /r=0/, 'the middleware sees the points consumed from code');
      assert.equal((await hit(url, { 'x-k': 'alice' })).status, 429);
      assert.equal((await limiter.consume('alice')).allowed, false);
      assert.equal((await hit(url, { 'x-k': 'bob' })).status, 200, 'other keys untouched');
      if (store === 'redis') assert.equal(await suite.admin.get(`routelens:rl:${name}:alice`), '7', 'one count in Redis');
      assert.deepEqual(await rl.resetKey(name, 'alice'), { reset: true });
      assert.equal((await limiter.check('alice')).remaining, 5, 'resetKey clears what code counted');
    });
  }

  it('stats count consume calls (under the route "(code)"), not checks', async () => {
    const { limiter, url, rl } = await mounted({ name: 'code-stats', max: 2, windowMs: 60_000, timeout: 1000 });
    await redisReady(limiter);
    const before = rl.list()[0];
    for (let i = 0; i < 5; i++) await limiter.check('s');
    await limiter.consume('s');
    await limiter.consume('s');
    await limiter.consume('s');
    await limiter.consume('s', 2);
    await hit(url, { 'x-k': 'web' });
    const st = rl.list()[0];
    assert.equal(st.allowed - before.allowed, 3, '2 consumes and 1 request allowed');
    assert.equal(st.limited - before.limited, 2);
    assert.equal(st.window.limited, 2);
    assert.deepEqual(
      st.routes.find((r) => r.route === CODE_ROUTE),
      { route: CODE_ROUTE, allowed: 2, limited: 2 },
    );
    assert.deepEqual(st.topKeys, [{ key: 's', limited: 2 }]);
    assert.equal(rl.takeChanged(), true, 'a consume marks the stats changed');
  });

  for (const policy of ['memory', 'fail-open'] as const) {
    it(`Redis down: consume and check follow onStoreError '${policy}', counted as store errors, and count in Redis again once it is back`, async () => {
      const name = `code-down-${policy}`;
      const { limiter, rl, warnings } = await mounted({ name, max: 2, windowMs: 60_000, onStoreError: policy, timeout: 1000 });
      await redisReady(limiter);
      await suite.redis.kill();
      try {
        await waitFor('the limiter to see Redis down', async () => (await limiter.check('probe')).fallback !== undefined);
        const errorsBefore = rl.list()[0].storeErrors;
        const answers = [];
        for (let i = 0; i < 3; i++) answers.push(await limiter.consume('d'));
        assert.ok(answers.every((a) => a.fallback === policy), JSON.stringify(answers));
        if (policy === 'memory') {
          assert.deepEqual(answers.map((a) => a.allowed), [true, true, false], 'counted in the in-memory insurance limiter');
          const check = await limiter.check('d');
          assert.deepEqual([check.allowed, check.remaining, check.fallback], [false, 0, 'memory']);
          assert.ok(check.resetMs > 0 && check.resetMs <= 60_000, `resetMs ${check.resetMs}`);
        } else {
          assert.deepEqual(answers.map((a) => [a.allowed, a.remaining]), [[true, 2], [true, 2], [true, 2]], 'let through');
          assert.deepEqual(await limiter.check('d'), { allowed: true, limit: 2, remaining: 2, resetMs: 0, fallback: 'fail-open' });
        }
        const st = rl.list()[0];
        assert.equal(st.storeErrors - errorsBefore, 4, 'three consumes and a check, each a store error');
        assert.equal(warnings.filter((w) => w.includes(`rate limit "${name}": Redis failed`)).length, 1, 'reported once');
      } finally {
        await suite.redis.restart();
      }
      await redisReady(limiter);
      assert.deepEqual((await limiter.consume('back')).fallback, undefined);
      assert.equal(await suite.admin.get(`routelens:rl:${name}:back`), '1', 'counted in Redis again');
    });
  }

  it('Redis frozen: consume answers within the timeout, from the insurance limiter', async () => {
    const { limiter } = await mounted({ name: 'code-frozen', max: 5, windowMs: 60_000, timeout: 100 });
    await redisReady(limiter);
    suite.redis.freeze();
    const t0 = performance.now();
    const first = await limiter.consume('f');
    const second = await limiter.consume('f');
    const elapsed = performance.now() - t0;
    suite.redis.thaw();
    assert.equal(first.fallback, 'memory');
    assert.equal(second.fallback, 'memory');
    assert.deepEqual([first.remaining, second.remaining], [4, 3]);
    assert.ok(elapsed < 1500, `two calls took ${elapsed.toFixed(0)} ms (the first waits the 100 ms timeout, the second is not sent)`);
  });

  it('allow-listed keys are never limited nor counted, from code as in requests', async () => {
    const { limiter, rl } = await mounted({ name: 'code-allow', max: 1, allowList: ['internal'] }, 'memory');
    for (let i = 0; i < 3; i++) assert.deepEqual(await limiter.consume('internal', 1), { allowed: true, limit: 1, remaining: 1, resetMs: 0 });
    assert.equal((await limiter.check('internal')).allowed, true);
    assert.deepEqual([rl.list()[0].allowed, rl.list()[0].limited], [0, 0]);
    assert.deepEqual([(await limiter.consume('other')).allowed, (await limiter.consume('other')).allowed], [true, false]);
  });

  it('refuses a bad key or points (ROUTELENS_ERR_INVALID_OPTION) and any call once closed (ROUTELENS_ERR_CLOSED)', async () => {
    const { limiter, rl } = await mounted({ name: 'code-args', max: 5 }, 'memory');
    const coded = (code: string, pattern: RegExp) => (err: unknown) => err instanceof RouteLensError && err.code === code && pattern.test(err.message);
    await assert.rejects(limiter.consume('k', 0), coded('ROUTELENS_ERR_INVALID_OPTION', /points/));
    await assert.rejects(limiter.consume('k', 1.5), coded('ROUTELENS_ERR_INVALID_OPTION', /points/));
    await assert.rejects(limiter.check(42 as unknown as string), coded('ROUTELENS_ERR_INVALID_OPTION', /key/));
    assert.equal((await limiter.check('k')).remaining, 5, 'refused calls counted nothing');
    await rl.close();
    await assert.rejects(limiter.consume('k'), coded('ROUTELENS_ERR_CLOSED', /code-args/));
    await assert.rejects(limiter.check('k'), coded('ROUTELENS_ERR_CLOSED', /code-args/));
  });

  it('agent.rateLimit() returns the limiter: a job and the HTTP route count against one limit', async () => {
    const agent = createAgent({ server: false, discoveryDir: false, cache: false });
    try {
      const perUser = agent.rateLimit({ name: 'per-user', max: 3, key: (req) => String(req.headers['x-user']) });
      const app = express();
      app.get('/export', perUser, (_req, res) => {
        res.send('ok');
      });
      const s = await serve(app);
      served.push(s);
      assert.equal(perUser.limiterName, 'per-user');
      assert.equal((await perUser.consume('u1', 2)).remaining, 1, 'a background job for u1 takes 2');
      assert.deepEqual(await hits(`${s.url}/export`, 2, { 'x-user': 'u1' }), [200, 429]);
    } finally {
      await agent.close();
    }
  });
});
