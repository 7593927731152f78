import assert from 'node:assert/strict';
import { Client, closeAll, http, jsonHeaders, raw, start, until } from './helpers';

function upgradeRequest(port: number, headers: string[]): string {
  return (
    `GET /v1/stream HTTP/1.1\r\n` +
    headers.map((h) => `${h}\r\n`).join('') +
    `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`
  );
}

describe('server security', () => {
  afterEach(closeAll);

  it('binds loopback only, refusing a non-loopback host with one warning', async () => {
    const { server, logger } = await start({ host: '0.0.0.0' });
    assert.equal(server.enabled, true);
    assert.equal(server.host, '127.0.0.1');
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(logger.lines.filter((l) => l.includes('ROUTELENS_WARN_NON_LOOPBACK_REFUSED')).length, 1);
    const again = await start({ host: '192.168.1.10' });
    assert.equal(again.server.host, '127.0.0.1');
  });

  it('a loopback host such as localhost binds 127.0.0.1', async () => {
    const { server, logger } = await start({ host: 'localhost' });
    assert.equal(server.host, '127.0.0.1');
    assert.equal(logger.lines.length, 0);
  });

  describe('DNS rebinding, Host header', () => {
    const bad = ['localhost.evil.com', 'localhost6', '0177.0.0.1', '127.1', 'evil.example', 'localhost', '127.0.0.1', '[::1]'];
    for (const name of bad) {
      it(`refuses Host ${name}${name.includes(':') || !['localhost', '127.0.0.1', '[::1]'].includes(name) ? '' : ' without the port'} with 403 on HTTP and upgrade`, async () => {
        const { server, auth } = await start();
        const host = ['localhost', '127.0.0.1', '[::1]'].includes(name) ? name : `${name}:${server.port}`;
        const r = await http(server.port, 'GET', '/v1/snapshot', { ...auth, Host: host });
        assert.equal(r.status, 403);
        assert.equal(r.json().error.code, 'ERR_FORBIDDEN');
        const u = await raw(server.port, upgradeRequest(server.port, [`Host: ${host}`, `Authorization: ${auth.Authorization}`]));
        assert.match(u, /^HTTP\/1\.1 403 /);
        assert.equal(server.clientCount(), 0);
      });
    }

    it('refuses a wrong port, a missing Host and a doubled Host', async () => {
      const { server, auth } = await start();
      const wrongPort = await http(server.port, 'GET', '/v1/snapshot', { ...auth, Host: `127.0.0.1:${server.port + 1}` });
      assert.equal(wrongPort.status, 403);
      const missing = await raw(server.port, `GET /v1/snapshot HTTP/1.0\r\nAuthorization: ${auth.Authorization}\r\n\r\n`);
      assert.match(missing, /^HTTP\/1\.1 (403|400) /);
      const doubled = await raw(
        server.port,
        `GET /v1/snapshot HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nHost: evil.example\r\nAuthorization: ${auth.Authorization}\r\nConnection: close\r\n\r\n`,
      );
      assert.match(doubled, /^HTTP\/1\.1 (403|400) /);
      const doubledUpgrade = await raw(
        server.port,
        upgradeRequest(server.port, [`Host: 127.0.0.1:${server.port}`, `Host: localhost:${server.port}`, `Authorization: ${auth.Authorization}`]),
      );
      assert.match(doubledUpgrade, /^HTTP\/1\.1 (403|400) /);
      assert.equal(server.clientCount(), 0);
    });

    it('accepts localhost, 127.0.0.1 and [::1] with the port', async () => {
      const { server, auth } = await start();
      for (const h of ['localhost', '127.0.0.1', '[::1]', 'LOCALHOST']) {
        const r = await http(server.port, 'GET', '/v1/system', { ...auth, Host: `${h}:${server.port}` });
        assert.equal(r.status, 200, h);
      }
    });
  });

  describe('cross-site WebSocket hijacking, Origin', () => {
    for (const origin of ['https://evil.example', 'http://1.2.3.4', 'null', 'chrome-extension://abcdefghijklmnop', 'http://localhost:3000', 'http://127.0.0.1']) {
      it(`refuses a handshake with Origin ${origin}`, async () => {
        const { server, auth } = await start();
        const c = new Client(server.wsUrl, { ...auth, Origin: origin });
        await assert.rejects(c.opened, /unexpected response 403/);
        const r = await http(server.port, 'GET', '/v1/snapshot', { ...auth, Origin: origin });
        assert.equal(r.status, 403);
        assert.equal(server.clientCount(), 0);
      });
    }
  });

  it('an Origin hidden behind many other headers is still refused', async () => {
    const { server, auth } = await start();
    const filler = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`X-F${i}`, '1']));
    const r = await http(server.port, 'GET', '/v1/snapshot', { ...auth, ...filler, Origin: 'https://evil.example' });
    assert.equal(r.status, 403);
  });

  describe('token', () => {
    it('refuses a missing, wrong or wrong-length token with 401 and never joins the client', async () => {
      const { server, token } = await start();
      const cases: Array<Record<string, string>> = [
        {},
        { Authorization: `Bearer ${token.slice(0, -1)}x` },
        { Authorization: `Bearer ${token}x` },
        { Authorization: 'Bearer a' },
        { Authorization: `Bearer ${'z'.repeat(5000)}` },
        { Authorization: `Basic ${token}` },
        { Authorization: token },
      ];
      for (const headers of cases) {
        const r = await http(server.port, 'GET', '/v1/snapshot', headers);
        assert.equal(r.status, 401);
        assert.equal(r.json().error.code, 'ERR_UNAUTHORIZED');
        const c = new Client(server.wsUrl, headers);
        await assert.rejects(c.opened, /unexpected response 401/);
        assert.equal(c.messages.length, 0);
      }
      assert.equal(server.clientCount(), 0);
    });

    it('destroys the raw upgrade socket after the 401 (before handleUpgrade)', async () => {
      const { server } = await start();
      const u = await raw(server.port, upgradeRequest(server.port, [`Host: 127.0.0.1:${server.port}`, 'Authorization: Bearer nope']), 4000);
      assert.match(u, /^HTTP\/1\.1 401 Unauthorized/);
      assert.doesNotMatch(u, /101 Switching/);
      assert.equal(server.clientCount(), 0);
    });

    it('refuses a token in the query string', async () => {
      const { server, token } = await start();
      const r = await http(server.port, 'GET', `/v1/snapshot?token=${token}`);
      assert.equal(r.status, 401);
    });

    it('accepts the right token on HTTP and WebSocket', async () => {
      const { server, auth } = await start();
      assert.equal((await http(server.port, 'GET', '/v1/snapshot', auth)).status, 200);
      const c = new Client(server.wsUrl, auth);
      await c.opened;
      await until(() => server.clientCount() === 1);
      c.ws.close();
    });
  });

  it('the token never appears in logs, URLs or process arguments', async () => {
    const { server, token, logger } = await start({ host: '10.1.2.3' });
    await http(server.port, 'GET', '/v1/snapshot', { Authorization: 'Bearer wrong' });
    await http(server.port, 'GET', `/v1/nope`, { Authorization: `Bearer ${token}` });
    assert.ok(!server.url.includes(token) && !server.wsUrl.includes(token));
    assert.ok(logger.lines.every((l) => !l.includes(token)));
    assert.ok(process.argv.every((a) => !a.includes(token)));
  });

  describe('cross-site HTTP', () => {
    it('refuses Sec-Fetch-Site other than none, OPTIONS, and never sends Access-Control-Allow-Origin', async () => {
      const { server, auth } = await start();
      for (const site of ['cross-site', 'same-site', 'same-origin']) {
        const r = await http(server.port, 'POST', '/v1/reset', { ...jsonHeaders(auth), 'Sec-Fetch-Site': site }, '{}');
        assert.equal(r.status, 403, site);
        assert.equal(r.headers['access-control-allow-origin'], undefined);
      }
      assert.equal((await http(server.port, 'GET', '/v1/system', { ...auth, 'Sec-Fetch-Site': 'none' })).status, 200);
      const pre = await http(server.port, 'OPTIONS', '/v1/reset', { ...auth, 'Access-Control-Request-Method': 'POST' });
      assert.ok(pre.status === 403 || pre.status === 405);
      assert.equal(pre.headers['access-control-allow-origin'], undefined);
      assert.equal((await http(server.port, 'OPTIONS', '/v1/unknown', auth)).status, 403);
      const preOrigin = await http(server.port, 'OPTIONS', '/v1/reset', { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' });
      assert.equal(preOrigin.status, 403);
      assert.equal(preOrigin.headers['access-control-allow-origin'], undefined);
    });

    it('GET never changes state: state-changing routes refuse GET', async () => {
      const { server, auth, host } = await start();
      for (const path of ['/v1/reset', '/v1/cache/invalidate', '/v1/cache/clear', '/v1/alerts/a1/resolve', '/v1/command']) {
        const r = await http(server.port, 'GET', path, auth);
        assert.equal(r.status, 405, path);
      }
      assert.deepEqual(host.calls.map((c) => c.command), []);
    });

    it('POST requires Content-Type: application/json (no simple cross-site form posts)', async () => {
      const { server, auth, host } = await start();
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
        const r = await http(server.port, 'POST', '/v1/reset', { ...auth, 'Content-Type': type }, '{}');
        assert.equal(r.status, 415, type);
      }
      const none = await http(server.port, 'POST', '/v1/reset', auth, '{}');
      assert.equal(none.status, 415);
      assert.equal(host.calls.length, 0);
    });
  });
});
