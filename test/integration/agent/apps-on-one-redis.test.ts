/**
 * Several apps on one Redis: each app's cache entries, key listing,
 * invalidations and limiter counters stay in its own namespace (derived from
 * the agent's name), while two instances of one app share theirs.
 */
import assert from 'node:assert/strict';
import express from 'express';
import { Redis } from 'ioredis';
import { type Agent, createAgent } from '../../../agent';
import { type Served, serve } from '../ratelimit/helpers';
import { type TestRedis, startRedis } from '../../support/redis';

interface App {
  agent: Agent;
  served: Served;
}

async function get(url: string): Promise<{ status: number; cache: string | null; body: string }> {
  const res = await fetch(url);
  return { status: res.status, cache: res.headers.get('x-cache'), body: await res.text() };
}

describe('several apps on one Redis', function () {
  this.timeout(30_000);
  let redis: TestRedis;
  let admin: Redis;
  let apps: App[] = [];

  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    admin.on('error', () => {});
  });
  after(async () => {
    admin.disconnect();
    await redis.stop();
  });
  afterEach(async () => {
    await Promise.all(apps.map(async (a) => {
      await a.served.close();
      await a.agent.close();
    }));
    apps = [];
    await admin.flushall();
  });

  /** An instance of the app called `name`: a cached page saying which app answered, and a limiter left unnamed (`limiter-1`). */
  async function start(name: string): Promise<App> {
    const agent = createAgent({ name, express, server: false, discoveryDir: false, redis: redis.url });
    const app = express();
    app.use(agent.middleware());
    app.get('/page', agent.cacheResponses({ ttl: 60_000 }), (_req, res) => res.json({ app: name }));
    app.get('/limited', agent.rateLimit({ max: 2, windowMs: 60_000 }), (_req, res) => res.send('ok'));
    const served = await serve(app);
    const started = { agent, served };
    apps.push(started);
    await waitForRedis(agent);
    return started;
  }

  async function waitForRedis(agent: Agent): Promise<void> {
    const deadline = Date.now() + 5000;
    while (agent.cache!.stats().redis !== 'ready') {
      if (Date.now() > deadline) throw new Error('the cache did not connect to Redis');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('two different apps: no response, entry, key listing, invalidation or limiter count crosses', async () => {
    const shop = await start('shop');
    const blog = await start('blog');

    assert.deepEqual(await get(`${shop.served.url}/page`), { status: 200, cache: 'MISS', body: '{"app":"shop"}' });
    assert.deepEqual(await get(`${blog.served.url}/page`), { status: 200, cache: 'MISS', body: '{"app":"blog"}' }, "the blog never answers with the shop's page");

    await shop.agent.cache!.set('users:1', 'shop user');
    await blog.agent.cache!.set('users:1', 'blog user');
    await blog.agent.cache!.set('posts:1', 'a post');
    const shopKeys = (await shop.agent.cache!.keys()).keys.map((k) => k.key).sort();
    assert.ok(!shopKeys.includes('posts:1'), `the shop lists only its own keys: ${shopKeys.join(', ')}`);
    assert.ok(shopKeys.includes('users:1'));

    assert.equal((await shop.agent.cache!.invalidate({ pattern: '*' })).removed > 0, true);
    await shop.agent.cache!.clearNamespace('posts');
    assert.equal(await blog.agent.cache!.get('users:1'), 'blog user');
    assert.equal(await blog.agent.cache!.get('posts:1'), 'a post');
    assert.ok((await admin.keys('routelens:blog:d:*')).length >= 3, 'the blog\'s entries are still in Redis');
    assert.deepEqual(await admin.keys('routelens:shop:d:*'), [], "the shop's own invalidation emptied its namespace");

    assert.deepEqual([(await get(`${shop.served.url}/limited`)).status, (await get(`${shop.served.url}/limited`)).status, (await get(`${shop.served.url}/limited`)).status], [200, 200, 429]);
    assert.equal((await get(`${blog.served.url}/limited`)).status, 200, "the shop's limiter-1 count is not the blog's");
    assert.ok((await admin.keys('routelens:shop:rl:limiter-1:*')).length === 1);
    assert.ok((await admin.keys('routelens:blog:rl:limiter-1:*')).length === 1);
  });

  it('two instances of one app share responses, entries, listings, invalidations and limits', async () => {
    const first = await start('shop');
    const second = await start('shop');

    assert.equal((await get(`${first.served.url}/page`)).cache, 'MISS');
    assert.deepEqual(await get(`${second.served.url}/page`), { status: 200, cache: 'HIT', body: '{"app":"shop"}' });

    await first.agent.cache!.set('users:1', 'one');
    assert.equal(await second.agent.cache!.get('users:1'), 'one');
    assert.ok((await second.agent.cache!.keys()).keys.some((k) => k.key === 'users:1'));
    await second.agent.cache!.invalidate({ key: 'users:1' });
    const deadline = Date.now() + 3000;
    while ((await first.agent.cache!.get('users:1')) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(await first.agent.cache!.get('users:1'), undefined, "the second instance's invalidation reaches the first's memory (one channel)");

    const statuses = [];
    for (const app of [first, second, first]) statuses.push((await get(`${app.served.url}/limited`)).status);
    assert.deepEqual(statuses, [200, 200, 429], 'one limit of 2 across both instances');
  });
});
