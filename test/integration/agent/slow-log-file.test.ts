/**
 * The slow-request log on disk, with a real agent on a real Express app and a
 * real temporary directory: entries written as NDJSON with query values
 * redacted, rotation at the size bound keeping at most maxFiles files, and
 * failures (an unwritable directory, the directory replaced by a file while
 * running) reported once as a warning while the app's requests go on.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { type Agent, type AgentOptions, createAgent } from '../../../agent';
import type { SlowRequest } from '../../../protocol';
import { MemoryLogger, until } from '../server/helpers';

interface Started {
  agent: Agent;
  logger: MemoryLogger;
  /** Sends GET /search?q=secret-<n> with x-request-id r<n>; resolves with the answer's status and body. */
  get(n: number): Promise<[number, string]>;
  close(): Promise<void>;
}

async function start(slowLog: AgentOptions['slowLog']): Promise<Started> {
  const logger = new MemoryLogger();
  // Every request is slow (info from 0 ms), so each one is one line.
  const agent = createAgent({ express, server: false, discoveryDir: false, cache: false, logger, slowLog, thresholds: { slowMs: { info: 0.001, warning: 5000, critical: 10000 } } });
  const app = express();
  app.use(agent.middleware());
  app.get('/search', (req, res) => void res.json({ q: req.query.q }));
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  return {
    agent,
    logger,
    async get(n) {
      const r = await fetch(`http://127.0.0.1:${port}/search?q=secret-${n}&page=2`, { headers: { 'x-request-id': `r${n}` } });
      return [r.status, await r.text()];
    },
    async close() {
      await agent.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const lines = (file: string): SlowRequest[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as SlowRequest)
    : [];
const ids = (entries: SlowRequest[]) => entries.map((e) => e.requestId);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `r${from + i}`);

describe('slow-request log on disk', function () {
  this.timeout(30_000);
  let root: string;
  let started: Started | undefined;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'routelens-slowlog-'));
  });
  afterEach(async () => {
    await started?.close();
    started = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  it('writes each slow request as one JSON line, oldest first, with query values redacted', async () => {
    const dir = join(root, 'logs/nested');
    started = await start({ dir });
    for (let n = 0; n < 5; n++) assert.deepEqual(await started.get(n), [200, `{"q":"secret-${n}"}`]);
    const file = join(dir, 'slow.ndjson');
    await until(() => lines(file).length === 5);
    const entries = lines(file);
    assert.deepEqual(ids(entries), range(0, 5));
    for (const e of entries) {
      assert.equal(e.method, 'GET');
      assert.equal(e.route, '/search');
      assert.equal(e.status, 200);
      assert.equal(e.severity, 'info');
      assert.equal(typeof e.duration, 'number');
      assert.doesNotMatch(e.path, /secret/);
      assert.match(e.path, /^\/search\?q=\*&page=\*$/);
    }
    assert.deepEqual(entries, [...started.agent.snapshot().slowRequests].reverse(), 'the same entries as in memory');
    assert.ok(started.agent.snapshot().agent.features.includes('slowLog'));
    assert.equal(started.logger.lines.filter((l) => l.startsWith('warn')).length, 0);
  });

  it('rotates at maxBytes and keeps at most maxFiles files, the newest entries in order', async () => {
    started = await start({ dir: root, maxBytes: 1024, maxFiles: 3 });
    const total = 40;
    for (let n = 0; n < total; n++) await started.get(n);
    const file = (k: number) => join(root, k === 0 ? 'slow.ndjson' : `slow.${k}.ndjson`);
    await until(() => lines(file(0)).some((e) => e.requestId === `r${total - 1}`));
    assert.deepEqual(readdirSync(root).sort(), ['slow.1.ndjson', 'slow.2.ndjson', 'slow.ndjson']);
    for (let k = 0; k < 3; k++) assert.ok(statSync(file(k)).size <= 1024, `file ${k} within the bound`);
    const kept = [2, 1, 0].flatMap((k) => lines(file(k)));
    // An entry is about 180 bytes: five to a file, so the oldest were rotated out.
    assert.ok(kept.length < total && kept.length >= 10, `kept ${kept.length}`);
    assert.deepEqual(ids(kept), range(total - kept.length, total), 'the newest entries, oldest first, none missing');
  });

  it('an unwritable directory: one warning, the requests answer and are measured as without the log', async () => {
    writeFileSync(join(root, 'a-file'), 'not a directory');
    started = await start({ dir: join(root, 'a-file/logs') });
    for (let n = 0; n < 5; n++) assert.deepEqual(await started.get(n), [200, `{"q":"secret-${n}"}`]);
    await until(() => started!.logger.lines.some((l) => l.includes('ROUTELENS_WARN_SLOW_LOG')));
    for (let n = 5; n < 10; n++) assert.deepEqual(await started.get(n), [200, `{"q":"secret-${n}"}`]);
    await until(() => started!.agent.stats('GET /search')?.count === 10);
    await new Promise((r) => setTimeout(r, 600));
    const warnings = started.logger.lines.filter((l) => l.startsWith('warn'));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /slow log .*a-file.*(ENOTDIR|EEXIST)/);
    assert.equal(started.logger.lines.filter((l) => l.startsWith('error')).length, 0, 'no internal failure');
  });

  it('the directory replaced by a file while running (a failing disk): reported, not fatal; writing resumes once it works again', async () => {
    const dir = join(root, 'logs');
    started = await start({ dir });
    await started.get(0);
    await until(() => lines(join(dir, 'slow.ndjson')).length === 1);

    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'in the way');
    for (let n = 1; n < 4; n++) assert.deepEqual(await started.get(n), [200, `{"q":"secret-${n}"}`]);
    await until(() => started!.logger.lines.some((l) => l.includes('ROUTELENS_WARN_SLOW_LOG')));

    rmSync(dir);
    mkdirSync(dir);
    // After the retry pause (5 s) the next slow requests are written again.
    await new Promise((r) => setTimeout(r, 5200));
    await started.get(4);
    await until(() => ids(lines(join(dir, 'slow.ndjson'))).includes('r4'), 3000);
    assert.equal(started.agent.stats('GET /search')?.count, 5, 'every request was measured');
  });

  it('close() writes what is still waiting', async () => {
    started = await start({ dir: root });
    for (let n = 0; n < 3; n++) await started.get(n);
    await started.agent.close();
    assert.deepEqual(ids(lines(join(root, 'slow.ndjson'))), range(0, 3));
  });
});
