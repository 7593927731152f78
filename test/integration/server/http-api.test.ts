/**
 * The local server's HTTP API against a real agent (createAgent) on a real Express 5 app, driven
 * by real requests. The last block keeps a fake host for the failures a real agent does not
 * produce on demand.
 */
import assert from 'node:assert/strict';
import { readSketch } from '../../../agent/metrics/sketch';
import { endpoint } from '../../support/fake-host';
import { type AgentApp, closeAll, http, jsonHeaders, raw, start, startAgentApp, until } from './helpers';

const counts = (app: AgentApp) => Object.fromEntries(app.agent.snapshot().endpoints.map((e) => [e.id, e.count]));

/** Two user reads, four health checks and two slow orders. */
async function someTraffic(app: AgentApp): Promise<void> {
  await app.traffic('GET', '/users/1', 2);
  await app.traffic('GET', '/health', 4);
  await app.traffic('POST', '/orders', 2);
}

/** Three cache entries in two namespaces, one of them read once. */
async function someCache(app: AgentApp): Promise<void> {
  const cache = app.agent.cache!;
  await cache.set('user:1', { name: 'Ada' });
  await cache.set('user:2', { name: 'Grace' });
  await cache.set('order:1', { total: 42 });
  assert.deepEqual(await cache.get('user:1'), { name: 'Ada' });
}

describe('server HTTP API', () => {
  afterEach(closeAll);

  it('GET /v1/snapshot answers the agent snapshot as JSON with the safety headers', async () => {
    const app = await startAgentApp();
    await someTraffic(app);
    const r = await http(app.port, 'GET', '/v1/snapshot', app.auth);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    const byId = Object.fromEntries(r.json().endpoints.map((e: { id: string; count: number }) => [e.id, e.count]));
    assert.deepEqual(byId, { 'GET /users/:id': 2, 'POST /orders': 2, 'GET /health': 4, 'GET /limited': 0 });
  });

  it('GET /v1/sketches answers each endpoint\'s count and latency sketch, with the token only', async () => {
    const app = await startAgentApp();
    await someTraffic(app);
    const r = await http(app.port, 'GET', '/v1/sketches', app.auth);
    assert.equal(r.status, 200);
    const byId = Object.fromEntries(r.json().endpoints.map((e: { id: string; count: number; sketch: string }) => [e.id, e]));
    assert.equal(byId['GET /health'].count, 4);
    assert.equal(readSketch(byId['GET /health'].sketch).count, 4);
    assert.ok(readSketch(byId['POST /orders'].sketch).getValueAtQuantile(0.5) >= 20, 'the 25 ms orders are in their sketch');
    assert.equal(byId['GET /limited'].sketch, '');
    assert.equal((await http(app.port, 'GET', '/v1/sketches', {})).status, 401);
    assert.equal((await http(app.port, 'GET', '/v1/sketches?x=1', app.auth)).status, 400);
  });

  describe('GET /v1/endpoints', () => {
    it('sorts slowest by p95 of the window and most-requested by count, with a limit', async () => {
      const app = await startAgentApp();
      await someTraffic(app);
      const slowest = (await http(app.port, 'GET', '/v1/endpoints', app.auth)).json();
      assert.deepEqual([slowest.sort, slowest.window, slowest.limit, slowest.total], ['slowest', 'all', 50, 4]);
      assert.equal(slowest.endpoints[0].id, 'POST /orders');
      const p95s = slowest.endpoints.map((e: { p95: number }) => e.p95);
      assert.deepEqual(p95s, [...p95s].sort((a, b) => b - a));
      const most = (await http(app.port, 'GET', '/v1/endpoints?sort=most-requested&limit=2&window=5m', app.auth)).json();
      assert.deepEqual(most.endpoints.map((e: { id: string }) => e.id), ['GET /health', 'GET /users/:id']);
      assert.equal(most.total, 4);
    });

    for (const q of ['sort=fastest', 'limit=0', 'limit=2001', 'limit=abc', 'limit=-1', 'limit=1.5', 'window=1h', 'sort=slowest&sort=slowest', 'bogus=1']) {
      it(`refuses ?${q} with 400 ERR_BAD_ARGS`, async () => {
        const app = await startAgentApp();
        const r = await http(app.port, 'GET', `/v1/endpoints?${q}`, app.auth);
        assert.equal(r.status, 400);
        assert.equal(r.json().error.code, 'ERR_BAD_ARGS');
      });
    }

    it('GET /v1/endpoints/<id> answers one endpoint or 404', async () => {
      const app = await startAgentApp();
      await app.traffic('GET', '/users/7', 3);
      const one = await http(app.port, 'GET', `/v1/endpoints/${encodeURIComponent('GET /users/:id')}`, app.auth);
      assert.equal(one.status, 200);
      assert.deepEqual([one.json().route, one.json().count], ['/users/:id', 3]);
      const none = await http(app.port, 'GET', `/v1/endpoints/${encodeURIComponent('GET /nope')}`, app.auth);
      assert.equal(none.status, 404);
      assert.equal(none.json().error.code, 'ERR_NOT_FOUND');
      const bad = await http(app.port, 'GET', '/v1/endpoints/%E0%A4%A', app.auth);
      assert.equal(bad.status, 400);
    });
  });

  it('GET /v1/system, /v1/alerts, /v1/thresholds, /v1/ratelimits, /v1/cache, /v1/cache/keys', async () => {
    const app = await startAgentApp({ thresholds: { p95Ms: 400 } });
    await someCache(app);
    await app.traffic('GET', '/limited', 5);
    const get = async (path: string) => (await http(app.port, 'GET', path, app.auth)).json();
    assert.equal((await get('/v1/system')).pid, process.pid);
    assert.deepEqual(await get('/v1/alerts'), { active: [], history: [] });
    assert.equal((await get('/v1/thresholds')).p95Ms, 400);
    const [limiter] = await get('/v1/ratelimits');
    assert.deepEqual([limiter.name, limiter.max, limiter.allowed, limiter.limited], ['api', 3, 3, 2]);
    const stats = await get('/v1/cache');
    assert.deepEqual([stats.enabled, stats.l1.entries, stats.l1.hits], [true, 3, 1]);
    const keys = (path: string) => get(path).then((r: { keys: Array<{ key: string }>; cursor: string | null }) => ({ keys: r.keys.map((k) => k.key).sort(), cursor: r.cursor }));
    assert.deepEqual(await keys('/v1/cache/keys?pattern=user:*&limit=10'), { keys: ['user:1', 'user:2'], cursor: null });
    const first = await keys('/v1/cache/keys?pattern=user:*&limit=1');
    assert.equal(first.keys.length, 1);
    const second = await keys(`/v1/cache/keys?pattern=user:*&limit=1&cursor=${first.cursor}`);
    assert.deepEqual([...first.keys, ...second.keys].sort(), ['user:1', 'user:2']);
    assert.deepEqual(await keys('/v1/cache/keys?pattern=&cursor=&limit='), { keys: ['order:1', 'user:1', 'user:2'], cursor: null });
    assert.equal((await http(app.port, 'GET', '/v1/cache/keys?limit=5000', app.auth)).status, 400);
    assert.equal((await http(app.port, 'GET', '/v1/cache/keys?limit=x', app.auth)).status, 400);
  });

  it('PUT/POST /v1/thresholds sets a validated patch', async () => {
    const app = await startAgentApp();
    const put = await http(app.port, 'PUT', '/v1/thresholds', jsonHeaders(app.auth), JSON.stringify({ p95Ms: 750 }));
    assert.equal(put.status, 200);
    assert.equal(put.json().p95Ms, 750);
    assert.equal(app.agent.snapshot().thresholds.p95Ms, 750);
    const post = await http(app.port, 'POST', '/v1/thresholds', jsonHeaders(app.auth), JSON.stringify({ errorRate: 2 }));
    assert.equal(post.status, 400);
    assert.equal(post.json().error.code, 'ERR_BAD_ARGS');
    const proto = await http(app.port, 'POST', '/v1/thresholds', jsonHeaders(app.auth), '{"__proto__":{"p95Ms":1}}');
    assert.equal(proto.status, 400);
    assert.equal(({} as Record<string, unknown>).p95Ms, undefined);
    assert.equal(app.agent.snapshot().thresholds.p95Ms, 750);
  });

  it('POST /v1/reset resets one endpoint or all of them', async () => {
    const app = await startAgentApp();
    await someTraffic(app);
    const h = jsonHeaders(app.auth);
    assert.deepEqual((await http(app.port, 'POST', '/v1/reset', h, '{"endpoint":"GET /health"}')).json(), { reset: 1 });
    assert.deepEqual(counts(app), { 'GET /users/:id': 2, 'POST /orders': 2, 'GET /health': 0, 'GET /limited': 0 });
    const unknown = await http(app.port, 'POST', '/v1/reset', h, '{"endpoint":"GET /nope"}');
    assert.deepEqual([unknown.status, unknown.json().error.code], [404, 'ERR_NOT_FOUND']);
    assert.deepEqual((await http(app.port, 'POST', '/v1/reset', h)).json(), { reset: 4 });
    assert.deepEqual(counts(app), { 'GET /users/:id': 0, 'POST /orders': 0, 'GET /health': 0, 'GET /limited': 0 });
  });

  it('POST /v1/alerts/<id>/resolve resolves a firing alert once', async () => {
    const app = await startAgentApp({ thresholds: { p95Ms: 5 } });
    await app.traffic('POST', '/orders', 20); // a route's p95 is judged from 20 requests in the minute
    let active: Array<{ id: string; rule: string; target: string }> = [];
    await until(async () => {
      active = (await http(app.port, 'GET', '/v1/alerts', app.auth)).json().active;
      return active.length > 0;
    });
    assert.deepEqual([active[0]!.rule, active[0]!.target], ['route-p95', 'POST /orders']);
    const h = jsonHeaders(app.auth);
    const resolved = await http(app.port, 'POST', `/v1/alerts/${active[0]!.id}/resolve`, h);
    assert.deepEqual([resolved.status, resolved.json().state, resolved.json().resolvedBy], [200, 'resolved', 'manual']);
    const again = await http(app.port, 'POST', `/v1/alerts/${active[0]!.id}/resolve`, h);
    assert.deepEqual([again.status, again.json().error.code], [404, 'ERR_NOT_FOUND']);
    assert.equal((await http(app.port, 'GET', '/v1/alerts', app.auth)).json().history[0].id, active[0]!.id);
  });

  it('POST /v1/cache/invalidate and /v1/cache/clear remove keys (a dry run removes none); /v1/command runs any command', async () => {
    const app = await startAgentApp();
    await someCache(app);
    const h = jsonHeaders(app.auth);
    const inv = await http(app.port, 'POST', '/v1/cache/invalidate', h, JSON.stringify({ pattern: 'user:*', dryRun: true }));
    assert.deepEqual(inv.json(), { removed: 2, dryRun: true });
    assert.equal(app.agent.cache!.stats().l1.entries, 3);
    const two = await http(app.port, 'POST', '/v1/cache/invalidate', h, JSON.stringify({ key: 'a', tag: 'b' }));
    assert.equal(two.status, 400);
    assert.deepEqual((await http(app.port, 'POST', '/v1/cache/invalidate', h, JSON.stringify({ key: 'order:1' }))).json(), { removed: 1, dryRun: false });
    assert.deepEqual((await http(app.port, 'POST', '/v1/cache/clear', h, '{"namespace":"user"}')).json(), { removed: 2, dryRun: false });
    assert.equal(app.agent.cache!.stats().l1.entries, 0);
    const cmd = await http(app.port, 'POST', '/v1/command', h, JSON.stringify({ command: 'thresholds.get' }));
    assert.equal(cmd.json().p95Ms, app.agent.snapshot().thresholds.p95Ms);
    const unknown = await http(app.port, 'POST', '/v1/command', h, JSON.stringify({ command: 'constructor' }));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json().error.code, 'ERR_UNKNOWN_COMMAND');
  });

  it('answers the cache routes of an agent without a cache with 503 ERR_UNAVAILABLE', async () => {
    const app = await startAgentApp({ cache: false });
    for (const [method, path] of [
      ['GET', '/v1/cache'],
      ['GET', '/v1/cache/keys'],
      ['POST', '/v1/cache/clear'],
    ] as const) {
      const r = await http(app.port, method, path, jsonHeaders(app.auth), method === 'POST' ? '{"namespace":"user"}' : undefined);
      assert.deepEqual([r.status, r.json().error.code], [503, 'ERR_UNAVAILABLE'], path);
    }
  });

  it('bodies: bad JSON 400, over 64 KiB 413 (by header and by stream); none of them runs the command', async () => {
    const app = await startAgentApp();
    await app.traffic('GET', '/health', 2);
    const h = jsonHeaders(app.auth);
    const bad = await http(app.port, 'POST', '/v1/reset', h, '{nope');
    assert.deepEqual([bad.status, bad.json().error.code], [400, 'ERR_BAD_JSON']);
    const big = await http(app.port, 'POST', '/v1/reset', h, JSON.stringify({ endpoint: 'x'.repeat(70 * 1024) }));
    assert.deepEqual([big.status, big.json().error.code], [413, 'ERR_TOO_LARGE']);
    const chunked = await raw(
      app.port,
      `POST /v1/reset HTTP/1.1\r\nHost: 127.0.0.1:${app.port}\r\nAuthorization: ${app.auth.Authorization}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `10000\r\n${'a'.repeat(0x10000)}\r\n10\r\n${'b'.repeat(16)}\r\n0\r\n\r\n`,
    );
    assert.match(chunked, /^HTTP\/1\.1 413 /);
    assert.equal(counts(app)['GET /health'], 2, 'nothing was reset');
  });

  it('answers 404 ERR_NOT_FOUND for an unknown path and 405 for a wrong method', async () => {
    const app = await startAgentApp();
    const nf = await http(app.port, 'GET', '/v2/nothing', app.auth);
    assert.deepEqual([nf.status, nf.json().error.code], [404, 'ERR_NOT_FOUND']);
    assert.equal((await http(app.port, 'DELETE', '/v1/snapshot', app.auth)).status, 405);
  });

  describe('GET /metrics', () => {
    it('renders the Prometheus text format with per-endpoint series, process, cache and rate-limit metrics', async () => {
      const app = await startAgentApp();
      await someTraffic(app);
      await someCache(app);
      await app.traffic('GET', '/limited', 5);
      const r = await http(app.port, 'GET', '/metrics', app.auth);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      const t = r.body;
      assert.match(t, /^# TYPE routelens_http_requests_total counter$/m);
      assert.match(t, /^routelens_http_requests_total\{method="GET",route="\/users\/:id"\} 2$/m);
      assert.match(t, /^routelens_http_requests_total\{method="GET",route="\/health"\} 4$/m);
      assert.match(t, /^# TYPE routelens_http_request_duration_seconds summary$/m);
      // POST /orders answers after 25 ms: its p95 in seconds is at least 0.025.
      const p95 = /^routelens_http_request_duration_seconds\{method="POST",route="\/orders",quantile="0\.95"\} (\S+)$/m.exec(t);
      assert.ok(p95 && Number(p95[1]) >= 0.024 && Number(p95[1]) < 5, `p95 of POST /orders: ${p95?.[1]}`);
      assert.match(t, /^routelens_http_request_duration_seconds_count\{method="POST",route="\/orders"\} 2$/m);
      assert.match(t, /^routelens_process_resident_memory_bytes [1-9]\d*$/m);
      assert.match(t, /^routelens_cache_hits_total\{tier="l1"\} 1$/m);
      assert.match(t, /^routelens_ratelimit_limited_total\{limiter="api"\} 2$/m);
      assert.ok(t.endsWith('\n'));
    });

    it('escapes hostile names in label values', async () => {
      const app = await startAgentApp();
      app.agent.record('a"} evil_metric 1\n# x\\', 10);
      const t = (await http(app.port, 'GET', '/metrics', app.auth)).body;
      assert.ok(t.includes('route="a\\"} evil_metric 1\\n# x\\\\"'), t);
      for (const line of t.split('\n')) assert.ok(line === '' || line.startsWith('# ') || /^[a-z0-9_]+(\{.*\})? \S+$/.test(line), `well-formed: ${line}`);
      assert.ok(!/^evil_metric/m.test(t));
    });
  });

  // A fake host here, because these need what a real agent does not do on demand: a command
  // that hangs or throws, a snapshot that throws, windows whose figures disagree (a real
  // agent's 1m and all-time windows differ only after a minute).
  describe('with a fake host', () => {
    it('maps a command that outlives the timeout to 408 ERR_TIMEOUT and one that throws to 500 ERR_INTERNAL', async () => {
      const { server, auth, host } = await start({ commandTimeoutMs: 100 });
      host.hang.add('alerts.list');
      const slow = await http(server.port, 'GET', '/v1/alerts', auth);
      assert.deepEqual([slow.status, slow.json().error.code], [408, 'ERR_TIMEOUT']);
      host.fail.set('thresholds.get', new Error('kaput'));
      const internal = await http(server.port, 'GET', '/v1/thresholds', auth);
      assert.deepEqual([internal.status, internal.json().error.code], [500, 'ERR_INTERNAL']);
    });

    it('every handler failure answers 500 JSON and the server goes on', async () => {
      const { server, auth, host } = await start();
      host.snapshot = () => {
        throw new Error('snapshot exploded');
      };
      for (const path of ['/v1/snapshot', '/v1/system', '/v1/endpoints', '/metrics']) {
        const r = await http(server.port, 'GET', path, auth);
        assert.equal(r.status, 500, path);
        assert.equal(r.json().error.code, 'ERR_INTERNAL');
      }
      assert.equal((await http(server.port, 'GET', '/v1/thresholds', auth)).status, 200);
    });

    it('GET /v1/endpoints sorts by the chosen window', async () => {
      const { server, auth, host } = await start();
      const a = endpoint('GET', '/a', 10, 100);
      const b = endpoint('GET', '/b', 10, 50);
      b.windows['1m'] = { ...b.windows['1m'], p95: 900 };
      host.endpoints = [a, b];
      const all = (await http(server.port, 'GET', '/v1/endpoints?window=all', auth)).json();
      assert.equal(all.endpoints[0].id, 'GET /a');
      const oneMin = (await http(server.port, 'GET', '/v1/endpoints?window=1m', auth)).json();
      assert.equal(oneMin.endpoints[0].id, 'GET /b');
    });
  });
});
