/**
 * Spans against real servers: PostgreSQL (pg with a pool), Redis (ioredis) and a local HTTP
 * service (fetch and http.get), through a real Express app measured by a real agent. Each span
 * must carry the right kind, a name without values, and the line of the test file that made
 * the call; concurrent requests' spans must not mix, and a route's breakdown must match what
 * its handler was built to spend.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import express from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Trace } from '../../../protocol';
import { type Agent, createAgent } from '../../../agent';
import { type TestPostgres, hasPostgres, startPostgres } from '../../support/postgres';
import { type TestRedis, startRedis } from '../../support/redis';
import { type Served, lineOf, serve, sleep, slowService, spansOf } from './helpers';

const FILE = __filename;

describe('spans against real PostgreSQL, Redis and HTTP', function () {
  this.timeout(60_000);
  let postgres: TestPostgres;
  let redisServer: TestRedis;
  let service: Served;
  let agent: Agent;
  let pool: pg.Pool;
  let redis: Redis;
  let app: Served;
  const traces: Trace[] = [];

  before(async function () {
    if (!hasPostgres()) this.skip();
    [postgres, redisServer, service] = await Promise.all([startPostgres(), startRedis(), slowService()]);
    agent = createAgent({ name: 'spans-test', express, discoveryDir: false, token: 'a'.repeat(32), spans: { sample: 'all' }, logger: false });
    agent.spans!.onTrace((t) => traces.push(t));
    pool = new pg.Pool({ connectionString: postgres.url, max: 2 });
    pool.on('error', () => {}); // an idle client told that the test's server is stopping
    await pool.query('CREATE TABLE items (id int, order_id int, name text)');
    await pool.query("INSERT INTO items SELECT g, g % 10, 'item ' || g FROM generate_series(1, 100) g");
    redis = new Redis(redisServer.url);
    app = await serve(buildApp() as unknown as http.RequestListener);
  });

  after(async () => {
    await app?.close();
    await agent?.close();
    redis?.disconnect();
    await pool?.end();
    await Promise.all([postgres?.stop(), redisServer?.stop(), service?.close()]);
  });

  function buildApp(): express.Express {
    const a = express();
    a.use(agent.middleware());
    a.use(function authCheck(_req, _res, next) {
      setTimeout(next, 10);
    });
    a.get('/orders/:id', async (req, res) => {
      const id = Number(req.params.id);
      await pool.query('SELECT id FROM items WHERE id = $1', [id]); // @pg-param
      for (let i = 0; i < 3; i++) await pool.query(`SELECT name FROM items WHERE order_id = ${id} AND name <> 'secret-value'`); // @pg-literal
      await Promise.all([1, 2, 3].map(() => pool.query('SELECT pg_sleep(0.02)'))); // @pg-fanout
      res.json({ requestId: agent.requestId() });
    });
    a.get('/mix', async (_req, res) => {
      await pool.query('SELECT pg_sleep(0.15)'); // @pg-mix
      await sleep(100);
      res.end('ok');
    });
    a.get('/redis', async (_req, res) => {
      await redis.set('users:42:name', 'secret-value'); // @redis-set
      res.end(await redis.get('users:42:name')); // @redis-get
    });
    a.get('/outbound', async (_req, res) => {
      await fetch(`${service.url}/slow?ms=30&token=secret-value`); // @fetch
      await new Promise<void>((resolve) => http.get(`${service.url}/slow?ms=20`, (r) => r.resume().on('end', resolve))); // @http-get
      res.end('ok');
    });
    a.get('/timed', async (_req, res) => {
      await agent.time('outer', async () => {
        await agent.time('inner', () => sleep(20));
        await pool.query('SELECT 1'); // @timed-query
      });
      res.end('ok');
    });
    a.get('/cached/:id', async (req, res) => {
      const v = await agent.cache!.getOrSet(`users:${req.params.id}`, async () => (await pool.query('SELECT 2 AS two')).rows[0]); // @cache-load
      res.json(v);
    });
    a.get('/order-lines/:id', async (req, res) => {
      const names = [];
      for (let i = 1; i <= 6; i++) names.push((await pool.query('SELECT name FROM items WHERE id = $1', [Number(req.params.id) * 10 + i])).rows[0]); // @n-plus-one
      res.json(names);
    });
    a.get('/a', async (_req, res) => {
      await pool.query('SELECT pg_sleep(0.03) AS route_a');
      res.end('a');
    });
    a.get('/b', async (_req, res) => {
      await pool.query('SELECT pg_sleep(0.03) AS route_b');
      res.end('b');
    });
    return a;
  }

  async function traceOf(res: Response): Promise<Trace> {
    const id = res.headers.get('x-request-id');
    assert.ok(id, 'the response carries X-Request-Id');
    await res.arrayBuffer();
    for (let i = 0; i < 100; i++) {
      const t = traces.find((x) => x.requestId === id);
      if (t) return t;
      await sleep(10);
    }
    throw new Error(`no trace for request ${id}`);
  }

  it('records pg queries normalised, without values, at the line that made them (pool, sequential and Promise.all)', async () => {
    const t = await traceOf(await fetch(`${app.url}/orders/7`));
    assert.equal(t.endpoint, 'GET /orders/:id');
    const db = spansOf(t, 'db');
    assert.equal(db.length, 7);
    assert.ok(db.every((s) => s.source === 'pg'));
    assert.equal(db[0]!.name, 'SELECT id FROM items WHERE id = $1');
    assert.equal(db[0]!.location?.file, FILE);
    assert.equal(db[0]!.location?.line, lineOf(FILE, '@pg-param'));
    for (const s of db.slice(1, 4)) {
      assert.equal(s.name, 'SELECT name FROM items WHERE order_id = ? AND name <> ?');
      assert.equal(s.location?.line, lineOf(FILE, '@pg-literal'));
    }
    const fan = db.slice(4);
    assert.ok(fan.every((s) => s.name === 'SELECT pg_sleep(?)' && s.location?.line === lineOf(FILE, '@pg-fanout')));
    // Fan-out: all three started before the first ended (pool of 2: the third waits, still attributed).
    assert.ok(fan[1]!.startMs < fan[0]!.startMs + fan[0]!.durationMs, JSON.stringify(fan));
    assert.ok(fan.every((s) => s.durationMs >= 15), JSON.stringify(fan));
    assert.doesNotMatch(JSON.stringify(t), /secret-value/);
  });

  it('records the middleware and the handler by name, the middleware with its own time', async () => {
    const t = await traceOf(await fetch(`${app.url}/orders/8`));
    const mw = spansOf(t, 'middleware').find((s) => s.name === 'authCheck');
    assert.ok(mw, JSON.stringify(t.spans.map((s) => s.name)));
    assert.ok(mw.durationMs >= 8 && mw.durationMs < 100, String(mw.durationMs));
    const handler = spansOf(t, 'handler');
    assert.equal(handler.length, 1);
    assert.ok(handler[0]!.startMs >= mw.startMs + mw.durationMs - 1);
  });

  it('echoes a sane X-Request-Id, generates one otherwise, and agent.requestId() reads it in the handler', async () => {
    const given = await fetch(`${app.url}/orders/3`, { headers: { 'X-Request-Id': 'client-id-123' } });
    assert.equal(given.headers.get('x-request-id'), 'client-id-123');
    assert.equal(((await given.clone().json()) as { requestId: string }).requestId, 'client-id-123');
    assert.equal((await traceOf(given)).requestId, 'client-id-123');
    const insane = await fetch(`${app.url}/orders/3`, { headers: { 'X-Request-Id': 'bad id <script>' } });
    const generated = insane.headers.get('x-request-id');
    assert.ok(generated && generated !== 'bad id <script>');
    assert.equal(((await insane.clone().json()) as { requestId: string }).requestId, generated);
    assert.equal((await traceOf(insane)).requestId, generated);
  });

  it('records ioredis commands with the key shape only', async () => {
    const t = await traceOf(await fetch(`${app.url}/redis`));
    const r = spansOf(t, 'redis');
    assert.deepEqual(
      r.map((s) => [s.name, s.source, s.location?.line]),
      [
        ['SET users:?:name', 'ioredis', lineOf(FILE, '@redis-set')],
        ['GET users:?:name', 'ioredis', lineOf(FILE, '@redis-get')],
      ],
    );
    assert.doesNotMatch(JSON.stringify(t), /secret-value/);
  });

  it('records outbound fetch (undici) and http.get with their duration, without the query string', async () => {
    const t = await traceOf(await fetch(`${app.url}/outbound`));
    const h = spansOf(t, 'http');
    const host = new URL(service.url).host;
    assert.deepEqual(
      h.map((s) => [s.name, s.source]),
      [
        [`GET ${host}/slow`, 'undici'],
        [`GET ${host}/slow`, 'http'],
      ],
    );
    assert.ok(h[0]!.durationMs >= 28, String(h[0]!.durationMs));
    assert.ok(h[1]!.durationMs >= 18, String(h[1]!.durationMs));
    assert.equal(h[0]!.location?.line, lineOf(FILE, "@fetch"));
    assert.equal(h[1]!.location?.line, lineOf(FILE, '@http-get'));
    assert.doesNotMatch(JSON.stringify(t), /secret-value/);
  });

  it('nests agent.time() spans and the queries inside them', async () => {
    const t = await traceOf(await fetch(`${app.url}/timed`));
    const outer = t.spans.findIndex((s) => s.kind === 'custom' && s.name === 'outer');
    const inner = t.spans.findIndex((s) => s.kind === 'custom' && s.name === 'inner');
    const q = t.spans.findIndex((s) => s.kind === 'db');
    assert.ok(outer >= 0 && inner >= 0 && q >= 0, JSON.stringify(t.spans));
    assert.equal(t.spans[inner]!.parent, outer);
    assert.equal(t.spans[q]!.parent, outer);
    assert.equal(t.spans[q]!.location?.line, lineOf(FILE, '@timed-query'));
    assert.ok(t.spans[inner]!.durationMs >= 18);
  });

  it('records the cache miss and its loader, with the loader query nested in it', async () => {
    const t = await traceOf(await fetch(`${app.url}/cached/9`));
    const cache = spansOf(t, 'cache').map((s) => s.name);
    assert.ok(cache.includes('cache.get users:? (miss)'), JSON.stringify(cache));
    const load = t.spans.findIndex((s) => s.name === 'cache.load users:?');
    assert.ok(load >= 0);
    assert.equal(t.spans.find((s) => s.kind === 'db')!.parent, load);
    assert.equal(t.spans[load]!.location?.line, lineOf(FILE, '@cache-load'));
    const hit = await traceOf(await fetch(`${app.url}/cached/9`));
    assert.deepEqual(spansOf(hit, 'cache').map((s) => s.name), ['cache.get users:? (l1 hit)']);
    assert.equal(spansOf(hit, 'db').length, 0);
  });

  it('keeps concurrent requests apart, also when one waits for a pooled connection another releases', async () => {
    const responses = await Promise.all(Array.from({ length: 8 }, (_, i) => fetch(`${app.url}/${i % 2 === 0 ? 'a' : 'b'}`)));
    for (const res of responses) {
      const t = await traceOf(res);
      const db = spansOf(t, 'db');
      assert.equal(db.length, 1, `${t.route}: ${JSON.stringify(db.map((s) => s.name))}`);
      assert.equal(db[0]!.name, `SELECT pg_sleep(?) AS route_${t.route.slice(1)}`);
    }
  });

  it('gives a breakdown within 10 % of what the handler spends (60 % in a query, 40 % in a timer)', async () => {
    for (let i = 0; i < 3; i++) await traceOf(await fetch(`${app.url}/mix`));
    const b = await agent.execute('endpoint.breakdown', { endpoint: 'GET /mix', window: '1m' });
    assert.equal(b.traced, 3);
    assert.equal(b.sampled, false);
    const share = (kind: string) => b.kinds.find((k) => k.kind === kind)?.share ?? 0;
    // authCheck's 10 ms of middleware is part of the route's time: 150 / 260 and 100 / 260.
    assert.ok(Math.abs(share('db') - 150 / 260) < 0.1, JSON.stringify(b.kinds));
    assert.ok(Math.abs(share('own') - 100 / 260) < 0.1, JSON.stringify(b.kinds));
    assert.ok(Math.abs(b.kinds.reduce((s, k) => s + k.share, 0) - 1) < 0.01);
    assert.equal(b.top[0]!.name, 'SELECT pg_sleep(?)');
    assert.equal(b.top[0]!.perRequest, 1);
    assert.equal(b.top[0]!.location?.line, lineOf(FILE, '@pg-mix'));
  });

  it('serves GET /v1/traces and the breakdown on GET /v1/endpoints/{id}', async () => {
    await traceOf(await fetch(`${app.url}/mix`));
    const server = (await agent.ready())!;
    const auth = { Authorization: `Bearer ${server.token}` };
    const list = await fetch(`${server.url.replace(/^ws/, 'http')}/v1/traces?endpoint=${encodeURIComponent('GET /mix')}&limit=2`, { headers: auth });
    assert.equal(list.status, 200);
    const { traces: kept } = (await list.json()) as { traces: Trace[] };
    assert.ok(kept.length >= 1 && kept.length <= 2);
    assert.ok(kept.every((t) => t.route === '/mix' && t.requestId.length > 0 && t.spans.some((s) => s.kind === 'db')));
    assert.equal(kept[0]!.kept, 'slowest');
    const ep = await fetch(`${server.url.replace(/^ws/, 'http')}/v1/endpoints/${encodeURIComponent('GET /mix')}`, { headers: auth });
    const body = (await ep.json()) as { breakdown?: { traced: number } };
    assert.ok((body.breakdown?.traced ?? 0) >= 1, JSON.stringify(body).slice(0, 300));
    const bad = await fetch(`${server.url.replace(/^ws/, 'http')}/v1/traces`, { headers: auth });
    assert.equal(bad.status, 400);
  });

  it('an N+1 of real queries becomes a finding at the query line, with the request id, through the agent\'s own recorder', async () => {
    const res = await fetch(`${app.url}/order-lines/3`);
    assert.equal(res.status, 200);
    const requestId = res.headers.get('x-request-id');
    await traceOf(res);
    const { findings } = await agent.execute('findings.list', {});
    const f = findings.find((x) => x.kind === 'n-plus-one' && x.endpoint === 'GET /order-lines/:id');
    assert.ok(f, JSON.stringify(findings.map((x) => [x.kind, x.endpoint])));
    assert.equal(f.location.file, FILE);
    assert.equal(f.location.line, lineOf(FILE, '@n-plus-one'));
    assert.ok(f.requestIds.includes(requestId!));
    assert.match(f.message, /6/);
    assert.ok(!JSON.stringify(f).includes('secret-value'));
  });
});
