/**
 * The agent with its back end in a worker thread (`worker: true`): the app's main thread records
 * into the shared ring, and the figures, the alerts and the local server live in the worker.
 * What a user sees must not change: the same figures, the same commands, the same stream; and the
 * editor is answered while the app's main thread is blocked.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { createAgent } from '../../../agent';
import type { AgentMessage, Snapshot } from '../../../protocol';
import { sharedRedis } from '../../support/redis';
import { Client, MemoryLogger, isType, serveAgentApp, startAgentApp, until } from '../server/helpers';

type Delta = Extract<AgentMessage, { type: 'delta' }>;

describe('agent in a worker thread', function () {
  this.timeout(30_000);

  it('records every request in the worker: counts, status classes, custom timings, slow requests with their URL', async () => {
    const a = await startAgentApp({ worker: true, thresholds: { slowMs: { info: 20, warning: 5000, critical: 10000 } } });
    try {
      // Registered routes are there before any request.
      assert.deepEqual(
        a.agent.snapshot().endpoints.map((e) => e.id).sort(),
        ['GET /health', 'GET /limited', 'GET /users/:id', 'POST /orders'],
      );
      await a.traffic('GET', '/users/7', 40);
      await a.traffic('POST', '/orders', 3);
      await a.traffic('GET', '/nope', 2);
      a.agent.record('db.query', 12);
      a.agent.record('db.query', 30, { error: true });
      await until(() => (a.agent.stats('db.query')?.count ?? 0) === 2);
      const s = a.agent.snapshot();
      const byId = new Map(s.endpoints.map((e) => [e.id, e]));
      assert.equal(byId.get('GET /users/:id')?.count, 40);
      assert.equal(byId.get('GET /users/:id')?.statusCodes['2xx'], 40);
      assert.equal(byId.get('POST /orders')?.count, 3);
      assert.ok(byId.get('POST /orders')!.p50 >= 20, 'a 25 ms handler reads at least 20 ms');
      assert.equal(byId.get('GET (unmatched)')?.statusCodes['4xx'], 2);
      const custom = a.agent.stats('db.query');
      assert.equal(custom?.errors, 1);
      assert.equal(custom?.max, 30);
      // The orders took over slowMs.info (20 ms): they are slow requests, with their URL.
      assert.equal(s.slowRequests.filter((r) => r.route === '/orders').length, 3);
      assert.equal(s.slowRequests[0]?.path, '/orders');
      assert.ok(s.system.heapUsed > 0, 'the process figures come from the main thread');
    } finally {
      await a.close();
    }
  });

  it('names its thread routelens, so `top -H` and /proc tell the agent’s CPU from the app’s (Linux)', async function () {
    if (process.platform !== 'linux') this.skip();
    const nameOf = (tid: string): string | undefined => {
      try {
        return readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      } catch {
        return undefined; // the thread ended while listed
      }
    };
    const named = (): string[] => readdirSync('/proc/self/task').filter((tid) => nameOf(tid) === 'routelens');
    const before = named().length;
    const a = await startAgentApp({ worker: true });
    try {
      await a.traffic('GET', '/users/7', 3);
      await until(() => named().length === before + 1);
      const [tid] = named();
      assert.notEqual(Number(tid), process.pid, 'the app’s main thread keeps its name');
    } finally {
      await a.close();
    }
    await until(() => named().length === before);
  });

  it('streams to the editor from the worker; commands on the app’s parts run in the app’s thread', async () => {
    const a = await startAgentApp({ worker: true, batchMs: 50 });
    const c = new Client(`ws://127.0.0.1:${a.port}/v1/stream`, a.auth);
    try {
      const snapshot = await c.next(isType('snapshot'));
      assert.equal(snapshot.snapshot.agent.pid, process.pid);
      await a.traffic('GET', '/users/1', 5);
      await c.next((m): m is Delta => m.type === 'delta' && (m.delta.endpoints ?? []).some((e) => e.id === 'GET /users/:id' && e.count === 5), 10_000);
      // The limiter lives with the app: its figures reach the stream, and its command runs there.
      for (let i = 0; i < 4; i++) await fetch(`${a.base}/limited`).then((r) => r.arrayBuffer());
      await c.next((m): m is Delta => m.type === 'delta' && (m.delta.rateLimits ?? []).some((l) => l.name === 'api' && l.limited === 1), 10_000);
      const setMax = await c.command(2, 'rateLimit.setMax', { limiter: 'api', max: 10 });
      assert.equal(setMax.ok, true);
      assert.equal((await fetch(`${a.base}/limited`)).status, 200, 'the new max applies to the app at once');
      // Measuring is switched in the app's thread: paused, requests go unrecorded.
      assert.equal((await c.command(3, 'measuring.set', { paused: true })).ok, true);
      assert.equal(a.agent.paused, true);
      await fetch(`${a.base}/users/2`).then((r) => r.arrayBuffer());
      assert.equal(a.agent.stats('GET /users/:id')?.count, 5);
      await a.agent.execute('measuring.set', { paused: false });
      // A command of the back end from the app: reset, seen by the next read.
      const reset = await a.agent.execute('reset', { endpoint: 'GET /users/:id' });
      assert.deepEqual(reset, { reset: 1 });
      assert.equal(a.agent.stats('GET /users/:id')?.count, 0);
      // A full reset removes what no route registered (the unmatched bucket, custom timings): their next samples count again.
      await a.traffic('GET', '/nope', 1);
      a.agent.record('job', 5);
      await until(() => a.agent.stats('job')?.count === 1);
      await a.agent.execute('reset', {});
      await fetch(`${a.base}/nope`).then((r) => r.arrayBuffer());
      a.agent.record('job', 7);
      await until(() => a.agent.stats('job')?.count === 1 && a.agent.stats('GET (unmatched)')?.count === 1);
      // An unknown endpoint is the same protocol error as without the worker.
      await assert.rejects(a.agent.execute('reset', { endpoint: 'GET /none' }), { name: 'ProtocolError', code: 'ERR_NOT_FOUND' });
    } finally {
      c.ws.close();
      await a.close();
    }
  });

  it('answers the editor while the app’s main thread is blocked', async () => {
    const a = await startAgentApp({ worker: true });
    try {
      await a.traffic('GET', '/users/1', 3);
      // The request is on the wire before the block starts; the worker answers it during the block.
      const socket = connect(a.port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      await new Promise((resolve) => socket.write(`GET /v1/snapshot HTTP/1.1\r\nHost: 127.0.0.1:${a.port}\r\nAuthorization: ${a.auth.Authorization}\r\nConnection: close\r\n\r\n`, resolve));
      const blockedFrom = Date.now();
      while (Date.now() - blockedFrom < 1500) {
        /* the app's main thread is busy: nothing else runs in it */
      }
      const blockedTo = Date.now();
      await new Promise((resolve) => socket.once('close', resolve));
      const text = Buffer.concat(chunks).toString('utf8');
      assert.match(text, /^HTTP\/1\.1 200/);
      const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Snapshot;
      assert.ok(body.time >= blockedFrom && body.time <= blockedTo, `the snapshot was made during the block (${body.time - blockedFrom} ms into ${blockedTo - blockedFrom} ms)`);
      assert.equal(body.endpoints.find((e) => e.id === 'GET /users/:id')?.count, 3);
    } finally {
      await a.close();
    }
  });

  it('a client that saw its response, then asks the agent, finds that request counted and reset, though the app’s thread was still busy', async () => {
    const agent = createAgent({ express, worker: true, discoveryDir: false, logger: false, history: false });
    const app = express();
    app.use(agent.middleware());
    app.get('/answers-then-works', (_req, res) => {
      res.send('ok');
      // Work after answering (a log flush, an analytics call): the response is on the wire while
      // this thread has not yet run the agent's finish, which comes after this handler returns.
      const from = Date.now();
      while (Date.now() - from < 60) {
        /* busy */
      }
    });
    const served = await serveAgentApp(agent, app);
    // The client is another process: it reads the response and asks the agent's worker while this thread is busy.
    const client = `
      const [base, port, auth] = process.argv.slice(1);
      const api = (path, init) => fetch('http://127.0.0.1:' + port + path, { ...init, headers: { Authorization: auth, 'Content-Type': 'application/json' } }).then((r) => r.json());
      const endpoint = '/v1/endpoints/' + encodeURIComponent('GET /answers-then-works');
      (async () => {
        const out = {};
        await fetch(base + '/answers-then-works').then((r) => r.text());
        out.counted = (await api(endpoint)).count;
        await fetch(base + '/answers-then-works').then((r) => r.text());
        out.reset = (await api('/v1/reset', { method: 'POST', body: JSON.stringify({ endpoint: 'GET /answers-then-works' }) })).reset;
        out.afterReset = (await api(endpoint)).count;
        console.log(JSON.stringify(out));
      })();`;
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', client, served.base, String(served.port), served.auth.Authorization]);
      assert.deepEqual(JSON.parse(stdout), { counted: 1, reset: 1, afterReset: 0 });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(agent.stats('GET /answers-then-works')?.count, 0, 'the request answered before the reset is not counted after it');
    } finally {
      await served.close();
    }
  });

  it('new slow-request thresholds apply to the very next request, whether an editor or the app set them', async () => {
    // No evaluation comes along to carry them (it runs once a minute here).
    const a = await startAgentApp({ worker: true, evaluateMs: 60_000, thresholds: { slowMs: { info: 5000, warning: 6000, critical: 7000 } } });
    const slowPaths = () => a.agent.snapshot().slowRequests.map((r) => r.path);
    try {
      const set = await fetch(`http://127.0.0.1:${a.port}/v1/thresholds`, { method: 'PUT', headers: { ...a.auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ slowMs: { info: 1 } }) });
      assert.equal(set.status, 200, await set.text());
      await fetch(`${a.base}/orders`, { method: 'POST' }).then((r) => r.arrayBuffer());
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(slowPaths(), ['/orders'], 'set over HTTP by an editor');
      await a.agent.execute('thresholds.set', { thresholds: { slowMs: { info: 5000, warning: 6000, critical: 7000 } } });
      await fetch(`${a.base}/orders`, { method: 'POST' }).then((r) => r.arrayBuffer());
      await a.agent.execute('thresholds.set', { thresholds: { slowMs: { info: 1, warning: 6000, critical: 7000 } } });
      await fetch(`${a.base}/orders?second`, { method: 'POST' }).then((r) => r.arrayBuffer());
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(slowPaths(), ['/orders?second', '/orders'], 'set by the app: the request under the higher threshold is not slow, the one after lowering it is');
    } finally {
      await a.close();
    }
  });

  it('the app’s thread loads none of the back end (its modules, the sketches, the stream’s WebSocket library), the cache’s LRU with the first write, the limiters’ libraries with the first limiter that needs them', async () => {
    const redis = await sharedRedis();
    const fixture = join(__dirname, '../../fixtures/loaded-modules.ts');
    const run = async (env: NodeJS.ProcessEnv) => JSON.parse((await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture, redis.url], { env: { ...process.env, ...env } })).stdout);
    assert.deepEqual(await run({}), {
      served: [],
      cached: ['lru-cache'],
      memoryLimiter: ['lru-cache', 'express-rate-limit', 'ip-address'],
      redisLimiter: ['lru-cache', 'express-rate-limit', 'ip-address', 'rate-limiter-flexible'],
    });
    // With the back end in the app's thread, the same watch sees all of it.
    const backEnd = ['agent/backend.ts', 'agent/metrics/index.ts', 'agent/metrics/sketch.ts', 'agent/history/index.ts', 'agent/alerts/index.ts', 'agent/server/index.ts', 'agent/feed.ts'];
    assert.deepEqual((await run({ ROUTELENS_WORKER: '0' })).served, ['ws', '@datadog/sketches-js', ...backEnd]);
  });

  it('when the worker stops, the app keeps serving and the agent goes on in the main thread, saying so', async () => {
    const logger = new MemoryLogger();
    const agent = createAgent({ express, worker: true, discoveryDir: false, logger, history: false });
    const app = express();
    app.use(agent.middleware());
    app.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    const served = await serveAgentApp(agent, app);
    try {
      await fetch(`${served.base}/users/1`).then((r) => r.arrayBuffer());
      await until(() => agent.stats('GET /users/:id')?.count === 1);
      // The worker dies (as an out-of-memory kill of the thread would end it).
      const back = (agent as unknown as { back: { worker: { terminate(): Promise<number> } } }).back;
      await back.worker.terminate();
      await until(() => logger.lines.some((l) => /the agent's worker stopped/.test(l)));
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${served.base}/users/${i}`)).status, 200);
      // Fresh figures, in the main thread: the route is still known from its registration.
      await until(() => agent.stats('GET /users/:id')?.count === 3);
      assert.notEqual(agent.snapshot().endpoints.find((e) => e.id === 'GET /users/:id')?.location?.line, undefined);
      // Its local server too, on a new port.
      await until(() => agent.port !== undefined && agent.port !== served.port);
    } finally {
      await served.close();
    }
  });
});
