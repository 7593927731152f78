/**
 * createAgent as a whole: the parts wired together on real Express 4 and 5
 * apps, driven over real HTTP and WebSocket connections.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { type Agent, createAgent } from '../../../agent';
import type { AgentMessage, CacheStats, DiscoveryRecord, EndpointStats, Snapshot } from '../../../protocol';

const variants: Array<[string, () => typeof import('express')]> = [
  ['Express 4', () => require('express4')],
  ['Express 5', () => require('express')],
];

for (const [name, load] of variants) {
  describe(`createAgent on ${name}`, () => {
    let discovery: string;
    let agent: Agent;
    let server: http.Server;
    let appPort: number;
    let rec: DiscoveryRecord;

    before(async () => {
      const express = load();
      discovery = mkdtempSync(join(tmpdir(), 'routelens-agent-'));
      agent = createAgent({ name: 'wired', express, discoveryDir: discovery, batchMs: 50, evaluateMs: 50, thresholds: { p95Ms: 40 } });
      const app = express();
      app.use(agent.middleware());
      app.get('/users/:id', async (req, res) => {
        const user = await agent.cache!.getOrSet(`users:${req.params.id}`, async () => ({ id: req.params.id }), { ttl: 60_000, tags: ['users'] });
        res.json(user);
      });
      app.get('/slow', (_req, res) => void setTimeout(() => res.send('late'), 60));
      app.get('/never-called', (_req, res) => res.send('x'));
      app.get('/job', async (_req, res) => res.json(await agent.time('db.job', async () => 42)));
      app.post('/login', agent.rateLimit({ name: 'login', windowMs: 60_000, max: 2 }), (_req, res) => res.send('ok'));
      server = await new Promise<http.Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      appPort = (server.address() as AddressInfo).port;
      const ready = await agent.ready();
      assert.ok(ready, 'the local server started');
      rec = JSON.parse(readFileSync(join(discovery, `agent-${process.pid}.json`), 'utf8')) as DiscoveryRecord;
      assert.equal(rec.port, ready.port);
      assert.equal(ready.discoveryFile, join(discovery, `agent-${process.pid}.json`));
    });

    after(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await agent.close();
      rmSync(discovery, { recursive: true, force: true });
    });

    const api = <T>(path: string, method = 'GET', body?: unknown) => request<T>(rec.port, method, path, body, { authorization: `Bearer ${rec.token}` });

    it('knows every registered route before any request, with its registration line', async () => {
      const snap = await api<Snapshot>('/v1/snapshot');
      const never = snap.endpoints.find((e) => e.id === 'GET /never-called');
      assert.ok(never, 'GET /never-called is listed');
      assert.equal(never.count, 0);
      assert.equal(never.location?.file, __filename);
      assert.equal(never.location?.line, lineOf("app.get('/never-called'"));
    });

    it('streams a snapshot, then deltas that carry requests as they finish', async () => {
      const ws = await connect(rec);
      try {
        const first = await ws.next((m) => m.type === 'snapshot');
        assert.equal(first.type === 'snapshot' && first.snapshot.agent.name, 'wired');
        for (let i = 0; i < 5; i++) await request(appPort, 'GET', `/users/${i % 2}`);
        const delta = await ws.next((m) => m.type === 'delta' && !!m.delta.endpoints?.some((e) => e.id === 'GET /users/:id' && e.count >= 5));
        assert.equal(delta.type, 'delta');
      } finally {
        ws.close();
      }
    });

    it('attributes cache reads to the route and labels an invalidation over HTTP `http` in the stream', async () => {
      const stats = await api<CacheStats>('/v1/cache');
      const route = stats.routes.find((r) => r.route === 'GET /users/:id');
      // Five requests (0, 1, 0, 1, 0): the first may go unattributed while the context switches on (agent/context.ts).
      assert.ok(route && route.hits >= 3 && route.misses >= 1 && route.hits + route.misses >= 4, JSON.stringify(stats.routes));
      const ws = await connect(rec);
      try {
        await ws.next((m) => m.type === 'snapshot');
        assert.deepEqual(await api('/v1/cache/invalidate', 'POST', { key: 'users:1' }), { removed: 1, dryRun: false });
        const d = await ws.next((m) => m.type === 'delta' && !!m.delta.cacheEvents?.some((e) => e.kind === 'invalidation'));
        const ev = d.type === 'delta' ? d.delta.cacheEvents!.find((e) => e.kind === 'invalidation')! : undefined;
        assert.equal(ev?.invalidation?.source, 'http');
        assert.equal(ev?.invalidation?.target, 'users:1');
      } finally {
        ws.close();
      }
      const refused = await request<{ error: { code: string } }>(rec.port, 'POST', '/v1/cache/invalidate', { pattern: 'users:[a-z]*' }, { authorization: `Bearer ${rec.token}` }, true);
      assert.equal(refused.error.code, 'ERR_PATTERN_REJECTED');
    });

    it('runs commands over the WebSocket: reset one endpoint, unknown endpoint, limiter max', async () => {
      const ws = await connect(rec);
      try {
        await ws.next((m) => m.type === 'snapshot');
        const reset = await ws.call('reset', { endpoint: 'GET /users/:id' });
        assert.deepEqual(reset, { ok: true, result: { reset: 1 } });
        assert.equal(agent.snapshot().endpoints.find((e) => e.id === 'GET /users/:id')!.count, 0);
        const missing = await ws.call('reset', { endpoint: 'GET /nope' });
        assert.equal(missing.ok === false && missing.error.code, 'ERR_NOT_FOUND');
        for (let i = 0; i < 3; i++) await request(appPort, 'POST', '/login', undefined, {}, true);
        const limited = agent.snapshot().rateLimits.find((l) => l.name === 'login')!;
        assert.deepEqual([limited.allowed, limited.limited], [2, 1]);
        const setMax = await ws.call('rateLimit.setMax', { limiter: 'login', max: 10 });
        assert.equal(setMax.ok && (setMax.result as { max: number }).max, 10);
        assert.equal((await request<string>(appPort, 'POST', '/login', undefined, {}, true)) , 'ok');
      } finally {
        ws.close();
      }
    });

    it('fires a p95 alert on a slow route, emits it, and shows it in the health score', async () => {
      // Waits for this alert: with the rule's hold, another (a busy machine's event-loop delay) may fire first.
      const fired = new Promise<void>((resolve) => {
        const onAlert = (a: { rule: string; target: string }) => {
          if (a.rule !== 'route-p95' || a.target !== 'GET /slow') return;
          agent.off('alert', onAlert);
          resolve();
        };
        agent.on('alert', onAlert);
      });
      for (let i = 0; i < 25; i++) await request(appPort, 'GET', '/slow');
      await Promise.race([fired, new Promise((_, reject) => setTimeout(() => reject(new Error('no alert event')), 5000))]);
      const snap = agent.snapshot();
      const alert = snap.alerts.find((a) => a.rule === 'route-p95' && a.target === 'GET /slow');
      assert.ok(alert, JSON.stringify(snap.alerts));
      assert.equal(alert.location?.file, __filename);
      assert.ok(snap.health.score < 100 && snap.health.reasons.length > 0);
    });

    it('labels a WebSocket clearNamespace `editor`, and answers ERR_NOT_FOUND for inspecting a missing key', async () => {
      await agent.cache!.set('tmp:1', 1);
      const ws = await connect(rec);
      try {
        await ws.next((m) => m.type === 'snapshot');
        assert.deepEqual(await ws.call('cache.clearNamespace', { namespace: 'tmp' }), { ok: true, result: { removed: 1, dryRun: false } });
        const d = await ws.next((m) => m.type === 'delta' && !!m.delta.cacheEvents?.some((e) => e.invalidation?.by === 'namespace'));
        const ev = d.type === 'delta' ? d.delta.cacheEvents!.find((e) => e.invalidation?.by === 'namespace') : undefined;
        assert.equal(ev?.invalidation?.source, 'editor');
        const missing = await ws.call('cache.inspect', { key: 'tmp:1' });
        assert.equal(missing.ok === false && missing.error.code, 'ERR_NOT_FOUND');
      } finally {
        ws.close();
      }
    });

    it('lists the rateLimit feature only once a limiter exists', () => {
      assert.deepEqual(agent.snapshot().agent.features, ['cache', 'rateLimit']);
      const bare = createAgent({ server: false, cache: false, express: load() });
      try {
        assert.deepEqual(bare.snapshot().agent.features, []);
        bare.rateLimit({ windowMs: 1000, max: 1 });
        assert.deepEqual(bare.snapshot().agent.features, ['rateLimit']);
      } finally {
        void bare.close();
      }
    });

    it('records custom timings next to the endpoints', async () => {
      await request(appPort, 'GET', '/job');
      const custom = agent.snapshot().endpoints.find((e: EndpointStats) => e.id === 'CUSTOM db.job');
      assert.equal(custom?.count, 1);
      assert.equal(custom?.kind, 'custom');
    });
  });
}

describe('createAgent lifecycle', () => {
  it('close() releases every timer, socket and listener: 10 agents in a fresh process leave nothing alive', () => {
    const discovery = mkdtempSync(join(tmpdir(), 'routelens-agent-'));
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../fixtures/agent-lifecycle.ts'), discovery], { encoding: 'utf8' });
    const { resources, exitListeners } = JSON.parse(out) as { resources: string[]; exitListeners: number };
    assert.deepEqual(resources, []);
    assert.equal(exitListeners, 0);
    assert.deepEqual(readdirSync(discovery), [], 'discovery files removed');
    rmSync(discovery, { recursive: true, force: true });
  });

  it('two agents in one process: the second warns once and does not overwrite the first one\'s discovery file', async () => {
    const discovery = mkdtempSync(join(tmpdir(), 'routelens-agent-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'routelens-agent-'));
    const warnings: string[][] = [[], [], []];
    const logger = (i: number) => ({ warn: (m: string) => warnings[i]!.push(m), error() {} });
    const first = createAgent({ discoveryDir: discovery, cache: false, logger: logger(0) });
    const second = createAgent({ discoveryDir: discovery, cache: false, logger: logger(1) });
    const third = createAgent({ discoveryDir: elsewhere, cache: false, logger: logger(2) });
    try {
      const [a, b, c] = await Promise.all([first.ready(), second.ready(), third.ready()]);
      assert.ok(a?.discoveryFile && b && c?.discoveryFile, 'all three servers run');
      assert.equal(b.discoveryFile, undefined, 'the second writes no file where the first advertises');
      const record = JSON.parse(readFileSync(a.discoveryFile, 'utf8')) as DiscoveryRecord;
      assert.deepEqual([record.port, record.token], [a.port, a.token]);
      assert.deepEqual(warnings[0], []);
      assert.equal(warnings[1]!.length, 1);
      assert.match(warnings[1]![0]!, /this one writes no discovery file.*\(ROUTELENS_WARN_SECOND_AGENT\)$/);
      assert.match(warnings[2]![0]!, /this one runs a second local server.*\(ROUTELENS_WARN_SECOND_AGENT\)$/);
    } finally {
      await Promise.all([first.close(), second.close(), third.close()]);
    }
    assert.deepEqual(readdirSync(discovery), []);
    const after = createAgent({ discoveryDir: discovery, cache: false, logger: logger(0) });
    try {
      assert.ok((await after.ready())?.discoveryFile, 'once they are closed, a new agent advertises again');
      assert.deepEqual(warnings[0], []);
    } finally {
      await after.close();
      rmSync(discovery, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('createAgent refuses bad and unknown options with ROUTELENS_ERR_INVALID_OPTION before starting anything', () => {
    for (const [options, message] of [
      [{ enabled: 'false' }, /"enabled" must be true or false/],
      [{ thresholds: { p95: 100 } }, /did you mean "p95Ms"/],
      [{ prot: 4000 }, /did you mean "port"/],
      [{ logger: 'debug' }, /"logger" must be/],
    ] as const) {
      assert.throws(() => createAgent(options as never), (err: Error & { code?: string }) => err.code === 'ROUTELENS_ERR_INVALID_OPTION' && message.test(err.message));
    }
  });

  it('ROUTELENS_DISABLED=1: no server, a pass-through middleware, and a working cache', async () => {
    process.env.ROUTELENS_DISABLED = '1';
    try {
      const agent = createAgent({ discoveryDir: false });
      assert.equal(await agent.ready(), undefined);
      let nextCalled = 0;
      agent.middleware()({} as never, {} as never, () => void nextCalled++);
      assert.equal(nextCalled, 1);
      await agent.cache!.set('k', 'v');
      assert.equal(await agent.cache!.get('k'), 'v');
      assert.deepEqual(agent.snapshot().endpoints, []);
      await agent.close();
    } finally {
      delete process.env.ROUTELENS_DISABLED;
    }
  });
  it('systemMs sets how often process figures are sampled', async () => {
    const sampledCpu = async (systemMs: number | undefined) => {
      const agent = createAgent({ server: false, cache: false, systemMs });
      try {
        // Busy for 400 ms in slices, so a sample timer due in that time can fire.
        for (const end = Date.now() + 400; Date.now() < end; ) {
          for (const sliceEnd = Date.now() + 20; Date.now() < sliceEnd; );
          await new Promise((r) => setImmediate(r));
        }
        return agent.snapshot().system.cpuPercent;
      } finally {
        await agent.close();
      }
    };
    assert.ok((await sampledCpu(100)) > 0, 'sampled every 100 ms: the busy loop shows');
    assert.equal(await sampledCpu(undefined), 0, 'the default 1 s: only the reading at start (CPU 0) yet');
  });
});

// ---------------------------------------------------------------- helpers

function lineOf(text: string): number {
  return readFileSync(__filename, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
}

function request<T>(port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, anyStatus = false): Promise<T> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: { ...headers, ...(data ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        if (!anyStatus && (res.statusCode ?? 0) >= 400) return reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`));
        try {
          resolve(JSON.parse(text) as T);
        } catch {
          resolve(text as T);
        }
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

type Reply = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

async function connect(rec: DiscoveryRecord) {
  const ws = new WebSocket(`ws://127.0.0.1:${rec.port}/v1/stream`, { headers: { authorization: `Bearer ${rec.token}` } });
  const queue: AgentMessage[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    queue.push(JSON.parse(String(data)) as AgentMessage);
    waiters.splice(0).forEach((w) => w());
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let id = 0;
  const next = async (pred: (m: AgentMessage) => boolean, ms = 5000): Promise<AgentMessage> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = queue.findIndex(pred);
      if (i >= 0) return queue.splice(0, i + 1)[i]!;
      if (Date.now() > deadline) throw new Error('no matching message');
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return {
    next,
    call: async (command: string, args: unknown): Promise<Reply> => {
      const myId = ++id;
      ws.send(JSON.stringify({ type: 'command', id: myId, command, args }));
      const m = await next((x) => x.type === 'reply' && x.id === myId);
      return m.type === 'reply' ? (m.ok ? { ok: true, result: m.result } : { ok: false, error: m.error }) : { ok: false, error: { code: '?', message: '?' } };
    },
    close: () => ws.close(),
  };
}
