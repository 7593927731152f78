import assert from 'node:assert/strict';
import { endpoint } from '../../support/fake-host';
import { closeAll, http, jsonHeaders, raw, start } from './helpers';

describe('server HTTP API', () => {
  afterEach(closeAll);

  it('GET /v1/snapshot answers JSON with the safety headers', async () => {
    const { server, auth } = await start();
    const r = await http(server.port, 'GET', '/v1/snapshot', auth);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.equal(r.json().endpoints.length, 3);
  });

  describe('GET /v1/endpoints', () => {
    it('sorts slowest by p95 of the window and most-requested by count, with a limit', async () => {
      const { server, auth } = await start();
      const slowest = (await http(server.port, 'GET', '/v1/endpoints', auth)).json();
      assert.deepEqual([slowest.sort, slowest.window, slowest.limit, slowest.total], ['slowest', 'all', 50, 3]);
      assert.deepEqual(slowest.endpoints.map((e: { id: string }) => e.id), ['POST /orders', 'GET /users/:id', 'GET /health']);
      const most = (await http(server.port, 'GET', '/v1/endpoints?sort=most-requested&limit=2&window=5m', auth)).json();
      assert.deepEqual(most.endpoints.map((e: { id: string }) => e.id), ['GET /health', 'GET /users/:id']);
    });

    it('uses the chosen window', async () => {
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

    for (const q of ['sort=fastest', 'limit=0', 'limit=2001', 'limit=abc', 'limit=-1', 'limit=1.5', 'window=1h', 'sort=slowest&sort=slowest', 'bogus=1']) {
      it(`refuses ?${q} with 400 ERR_BAD_ARGS`, async () => {
        const { server, auth } = await start();
        const r = await http(server.port, 'GET', `/v1/endpoints?${q}`, auth);
        assert.equal(r.status, 400);
        assert.equal(r.json().error.code, 'ERR_BAD_ARGS');
      });
    }

    it('GET /v1/endpoints/<id> answers one endpoint or 404', async () => {
      const { server, auth } = await start();
      const one = await http(server.port, 'GET', `/v1/endpoints/${encodeURIComponent('GET /users/:id')}`, auth);
      assert.equal(one.status, 200);
      assert.equal(one.json().route, '/users/:id');
      const none = await http(server.port, 'GET', `/v1/endpoints/${encodeURIComponent('GET /nope')}`, auth);
      assert.equal(none.status, 404);
      assert.equal(none.json().error.code, 'ERR_NOT_FOUND');
      const bad = await http(server.port, 'GET', '/v1/endpoints/%E0%A4%A', auth);
      assert.equal(bad.status, 400);
    });
  });

  it('GET /v1/system, /v1/alerts, /v1/thresholds, /v1/ratelimits, /v1/cache, /v1/cache/keys', async () => {
    const { server, auth, host } = await start();
    assert.equal((await http(server.port, 'GET', '/v1/system', auth)).json().pid, process.pid);
    const alerts = (await http(server.port, 'GET', '/v1/alerts', auth)).json();
    assert.deepEqual(Object.keys(alerts).sort(), ['active', 'history']);
    assert.equal((await http(server.port, 'GET', '/v1/thresholds', auth)).json().p95Ms, 500);
    assert.equal((await http(server.port, 'GET', '/v1/ratelimits', auth)).json()[0].name, 'api');
    assert.equal((await http(server.port, 'GET', '/v1/cache', auth)).json().enabled, true);
    const keys = await http(server.port, 'GET', '/v1/cache/keys?pattern=user:*&limit=10&cursor=0', auth);
    assert.equal(keys.status, 200);
    assert.deepEqual(host.calls.at(-1), { command: 'cache.keys', args: { pattern: 'user:*', limit: 10, cursor: '0' }, source: 'http' });
    assert.equal((await http(server.port, 'GET', '/v1/cache/keys?pattern=&cursor=&limit=', auth)).status, 200);
    assert.deepEqual(host.calls.at(-1)?.args, {});
    assert.equal((await http(server.port, 'GET', '/v1/cache/keys?limit=5000', auth)).status, 400);
    assert.equal((await http(server.port, 'GET', '/v1/cache/keys?limit=x', auth)).status, 400);
  });

  it('PUT/POST /v1/thresholds sets a validated patch', async () => {
    const { server, auth } = await start();
    const put = await http(server.port, 'PUT', '/v1/thresholds', jsonHeaders(auth), JSON.stringify({ p95Ms: 750 }));
    assert.equal(put.status, 200);
    assert.equal(put.json().p95Ms, 750);
    const post = await http(server.port, 'POST', '/v1/thresholds', jsonHeaders(auth), JSON.stringify({ errorRate: 2 }));
    assert.equal(post.status, 400);
    assert.equal(post.json().error.code, 'ERR_BAD_ARGS');
    const proto = await http(server.port, 'POST', '/v1/thresholds', jsonHeaders(auth), '{"__proto__":{"p95Ms":1}}');
    assert.equal(proto.status, 400);
    assert.equal(({} as Record<string, unknown>).p95Ms, undefined);
  });

  it('POST /v1/reset, /v1/alerts/<id>/resolve, /v1/cache/invalidate, /v1/cache/clear, /v1/command', async () => {
    const { server, auth, host } = await start();
    const h = jsonHeaders(auth);
    assert.deepEqual((await http(server.port, 'POST', '/v1/reset', h, '{"endpoint":"GET /a"}')).json(), { reset: 1 });
    assert.deepEqual((await http(server.port, 'POST', '/v1/reset', h)).json(), { reset: 3 });
    const resolved = await http(server.port, 'POST', '/v1/alerts/a1/resolve', h);
    assert.equal(resolved.json().state, 'resolved');
    const again = await http(server.port, 'POST', '/v1/alerts/a1/resolve', h);
    assert.equal(again.status, 404);
    const inv = await http(server.port, 'POST', '/v1/cache/invalidate', h, JSON.stringify({ pattern: 'user:*', dryRun: true }));
    assert.deepEqual(inv.json(), { removed: 3, dryRun: true });
    const two = await http(server.port, 'POST', '/v1/cache/invalidate', h, JSON.stringify({ key: 'a', tag: 'b' }));
    assert.equal(two.status, 400);
    assert.equal((await http(server.port, 'POST', '/v1/cache/clear', h, '{"namespace":"users"}')).json().removed, 3);
    const cmd = await http(server.port, 'POST', '/v1/command', h, JSON.stringify({ command: 'thresholds.get' }));
    assert.equal(cmd.json().p95Ms, 500);
    const unknown = await http(server.port, 'POST', '/v1/command', h, JSON.stringify({ command: 'constructor' }));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json().error.code, 'ERR_UNKNOWN_COMMAND');
    assert.ok(host.calls.every((c) => c.source === 'http'));
    host.cacheEnabled = false;
    const off = await http(server.port, 'GET', '/v1/cache', auth);
    assert.equal(off.status, 503);
    assert.equal(off.json().error.code, 'ERR_UNAVAILABLE');
  });

  it('bodies: bad JSON 400, over 64 KiB 413 (by header and by stream)', async () => {
    const { server, auth, host } = await start();
    const h = jsonHeaders(auth);
    const bad = await http(server.port, 'POST', '/v1/reset', h, '{nope');
    assert.deepEqual([bad.status, bad.json().error.code], [400, 'ERR_BAD_JSON']);
    const big = await http(server.port, 'POST', '/v1/reset', h, JSON.stringify({ endpoint: 'x'.repeat(70 * 1024) }));
    assert.deepEqual([big.status, big.json().error.code], [413, 'ERR_TOO_LARGE']);
    const chunked = await raw(
      server.port,
      `POST /v1/reset HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nAuthorization: ${auth.Authorization}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n` +
        `10000\r\n${'a'.repeat(0x10000)}\r\n10\r\n${'b'.repeat(16)}\r\n0\r\n\r\n`,
    );
    assert.match(chunked, /^HTTP\/1\.1 413 /);
    assert.equal(host.calls.length, 0);
  });

  it('maps error codes to statuses: 404 unknown path, 405 wrong method, 408 timeout, 500 internal', async () => {
    const { server, auth, host } = await start({ commandTimeoutMs: 100 });
    const nf = await http(server.port, 'GET', '/v2/nothing', auth);
    assert.deepEqual([nf.status, nf.json().error.code], [404, 'ERR_NOT_FOUND']);
    assert.equal((await http(server.port, 'DELETE', '/v1/snapshot', auth)).status, 405);
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

  describe('GET /metrics', () => {
    it('renders the Prometheus text format with per-endpoint series, process, cache and rate-limit metrics', async () => {
      const { server, auth, host } = await start();
      host.extra = {
        cache: {
          l1: { hits: 7, misses: 3, hitRate: 0.7, entries: 4, bytes: 10, maxEntries: 100, maxBytes: 1000 },
          l2: { hits: 1, misses: 2, hitRate: 0.33, errors: 0 },
        } as never,
      };
      const r = await http(server.port, 'GET', '/metrics', auth);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      const t = r.body;
      assert.match(t, /^# TYPE routelens_http_requests_total counter$/m);
      assert.match(t, /^routelens_http_requests_total\{method="GET",route="\/users\/:id"\} 120$/m);
      assert.match(t, /^# TYPE routelens_http_request_duration_seconds summary$/m);
      assert.match(t, /^routelens_http_request_duration_seconds\{method="POST",route="\/orders",quantile="0\.95"\} 0\.25$/m);
      assert.match(t, /^routelens_http_request_duration_seconds_count\{method="POST",route="\/orders"\} 15$/m);
      assert.match(t, /^routelens_process_resident_memory_bytes 80000000$/m);
      assert.match(t, /^routelens_cache_hits_total\{tier="l1"\} 7$/m);
      assert.match(t, /^routelens_ratelimit_limited_total\{limiter="api"\} 2$/m);
      assert.ok(t.endsWith('\n'));
    });

    it('escapes hostile route strings in label values', async () => {
      const { server, auth, host } = await start();
      host.endpoints = [endpoint('GET', '/a"} evil_metric 1\n# x\\', 5, 10)];
      const t = (await http(server.port, 'GET', '/metrics', auth)).body;
      assert.ok(t.includes('route="/a\\"} evil_metric 1\\n# x\\\\"'));
      for (const line of t.split('\n')) assert.ok(line === '' || line.startsWith('# ') || /^[a-z0-9_]+(\{.*\})? \S+$/.test(line), `well-formed: ${line}`);
      assert.ok(!/^evil_metric/m.test(t));
    });
  });
});
