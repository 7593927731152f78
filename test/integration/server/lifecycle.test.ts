import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asDiscoveryRecord } from '../../../protocol';
import { Client, closeAll, http, isType, start } from './helpers';

function occupy(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : 0 });
    });
  });
}

function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

describe('server lifecycle', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'routelens-server-test-'));
  });
  afterEach(async () => {
    await closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('port in use', () => {
    it('warns once and listens on another port, advertised in the discovery file', async () => {
      const busy = await occupy();
      try {
        const { server, logger, auth } = await start({ port: busy.port, discoveryDir: dir });
        assert.equal(server.enabled, true);
        assert.notEqual(server.port, busy.port);
        assert.equal(logger.lines.filter((l) => l.includes('ROUTELENS_WARN_PORT_IN_USE')).length, 1);
        const record = asDiscoveryRecord(JSON.parse(readFileSync(server.discoveryFile!, 'utf8')));
        assert.equal(record?.port, server.port);
        assert.equal((await http(server.port, 'GET', '/v1/system', auth)).status, 200);
      } finally {
        busy.server.close();
      }
    });

    it('any other listen failure resolves a disabled server; the app runs on', async () => {
      // 192.0.2.1 (TEST-NET-1) is not assigned here: EADDRNOTAVAIL, nothing is bound.
      const { server, logger } = await start({ host: '192.0.2.1', allowNonLoopback: true, discoveryDir: dir });
      assert.equal(server.enabled, false);
      assert.equal(server.port, 0);
      assert.equal(server.url, '');
      assert.equal(server.clientCount(), 0);
      assert.equal(logger.lines.filter((l) => l.includes('ROUTELENS_WARN_SERVER_DISABLED')).length, 1);
      assert.deepEqual(readdirSync(dir), []);
      await server.close();
    });
  });

  describe('discovery file', () => {
    it('is written 0600 in a 0700 directory with the DiscoveryRecord fields, atomically, and removed on close', async function () {
      if (process.platform === 'win32') this.skip();
      const sub = join(dir, 'nested', 'routelens');
      const { server, token } = await start({ discoveryDir: sub, name: 'my-app', version: '1.2.3' });
      assert.equal(server.discoveryFile, join(sub, `agent-${process.pid}.json`));
      assert.equal(statSync(sub).mode & 0o777, 0o700);
      assert.equal(statSync(server.discoveryFile!).mode & 0o777, 0o600);
      const record = JSON.parse(readFileSync(server.discoveryFile!, 'utf8'));
      assert.deepEqual(asDiscoveryRecord(record), record);
      assert.equal(record.pid, process.pid);
      assert.equal(record.port, server.port);
      assert.equal(record.host, '127.0.0.1');
      assert.equal(record.token, token);
      assert.equal(record.name, 'my-app');
      assert.equal(record.version, '1.2.3');
      assert.equal(record.protocolVersion, 1);
      assert.deepEqual(readdirSync(sub), [`agent-${process.pid}.json`], 'no temp files left');
      await server.close();
      assert.equal(existsSync(server.discoveryFile!), false);
    });

    it('tightens an existing directory that is too open', async function () {
      if (process.platform === 'win32') this.skip();
      const { chmodSync } = await import('node:fs');
      chmodSync(dir, 0o755);
      await start({ discoveryDir: dir });
      assert.equal(statSync(dir).mode & 0o777, 0o700);
    });

    it('discoveryDir false writes nothing', async () => {
      const { server } = await start({ discoveryDir: false });
      assert.equal(server.discoveryFile, undefined);
      assert.deepEqual(readdirSync(dir), []);
    });

    it('is removed when the process exits without close()', async () => {
      const child = join(__dirname, 'fixtures', 'exit-child.ts');
      const out = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', child], { env: { ...process.env, ROUTELENS_DISCOVERY_DIR: dir }, timeout: 20_000 }, (err, stdout) =>
          err ? reject(err) : resolve(stdout),
        ),
      );
      const file = out.trim();
      assert.ok(file.startsWith(dir), file);
      assert.equal(existsSync(file), false);
      assert.deepEqual(readdirSync(dir), []);
    });
  });

  it('each restart advertises a new port and token, rewrites (not appends) the file, and a second server in the process does not delete the newer file', async () => {
    const a = await start({ discoveryDir: dir });
    const first = JSON.parse(readFileSync(a.server.discoveryFile!, 'utf8'));
    await a.server.close();
    const b = await start({ discoveryDir: dir });
    const second = JSON.parse(readFileSync(b.server.discoveryFile!, 'utf8'));
    assert.notEqual(second.token, first.token);
    assert.equal(second.port, b.server.port);
    const c = await start({ discoveryDir: dir });
    await b.server.close();
    const third = asDiscoveryRecord(JSON.parse(readFileSync(c.server.discoveryFile!, 'utf8')));
    assert.equal(third?.token, c.token, 'closing the older server left the newer file');
  });

  it('close() terminates clients with 1001, stops answering and is idempotent', async () => {
    const { server, auth } = await start({ discoveryDir: dir });
    const c = new Client(server.wsUrl, auth);
    await c.next(isType('snapshot'));
    const closing = server.close();
    assert.equal(await c.closed, 1001);
    await closing;
    await server.close();
    await assert.rejects(http(server.port, 'GET', '/v1/system', auth));
  });

  it('50 start/close cycles leave no growth of process listeners, timers or sockets', async function () {
    this.timeout(60_000);
    const cycle = async () => {
      const { server, auth } = await start({ discoveryDir: dir, heartbeatMs: 1000 });
      const c = new Client(server.wsUrl, auth);
      await c.next(isType('snapshot'));
      await http(server.port, 'GET', '/v1/snapshot', auth);
      await server.close();
      await c.closed;
    };
    await cycle();
    await closeAll();
    const listenersBefore = process.listenerCount('exit');
    const before = resources();
    // Unref'd timers are missing from getActiveResourcesInfo(): track them with async_hooks.
    const liveTimers = new Set<number>();
    const hook = createHook({
      init(id, type) {
        if (type === 'Timeout') liveTimers.add(id);
      },
      destroy(id) {
        liveTimers.delete(id);
      },
    }).enable();
    try {
      for (let i = 0; i < 50; i++) await cycle();
      await closeAll();
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      hook.disable();
    }
    const after = resources();
    assert.ok(liveTimers.size <= 2, `${liveTimers.size} timers created during 50 cycles are still alive`);
    assert.equal(process.listenerCount('exit'), listenersBefore);
    for (const kind of ['Timeout', 'TCPServerWrap', 'TCPSocketWrap']) assert.ok((after[kind] ?? 0) <= (before[kind] ?? 0), `${kind}: ${before[kind] ?? 0} → ${after[kind] ?? 0}`);
    assert.deepEqual(readdirSync(dir), []);
  });
});
