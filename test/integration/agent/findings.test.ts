/**
 * Findings on a real agent measuring a real Express app. The span recorder is
 * not part of this suite (spans: false): the test's own tracer (AsyncLocalStorage, spans at
 * their real call sites in this file) builds each request's Trace and hands it
 * to the agent's findings engine, as the recorder does. The findings are read
 * through GET /v1/findings, the findings.list command and the WebSocket feed;
 * a slow query also lands in the slow log and fires the slow-query alert; a
 * low hit rate comes from the agent's real cache.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { readFileSync } from 'node:fs';
import express from 'express';
import { createAgent } from '../../../agent';
import type { Agent } from '../../../agent/agent';
import type { FindingsEngine } from '../../../agent/findings';
import type { Alert, Finding, SourceLocation, Span, Trace } from '../../../protocol';
import { Client, http, isType, type ServedApp, serveAgentApp, sleep, until } from '../server/helpers';

interface Collector {
  start: number;
  startedAt: number;
  spans: Span[];
}
const als = new AsyncLocalStorage<Collector>();

/** The caller's caller's frame: where `query(...)` or `traced(...)` was called. */
function callSite(): SourceLocation {
  const frame = new Error().stack!.split('\n')[3]!;
  const m = /\(?([^()\s]+):(\d+):(\d+)\)?$/.exec(frame.trim())!;
  return { file: m[1]!, line: Number(m[2]), column: Number(m[3]) };
}

/** A database call of `ms` recorded as a span of the current request, at its call site. */
async function query(name: string, ms: number, kind: Span['kind'] = 'db'): Promise<void> {
  const c = als.getStore();
  const span: Span = { kind, name, startMs: 0, durationMs: 0, location: callSite(), parent: 0, source: 'test' };
  const start = performance.now();
  if (c) {
    span.startMs = start - c.start;
    c.spans.push(span);
  }
  await sleep(ms);
  span.durationMs = performance.now() - start;
}

/** A cache read recorded as a cache span of the current request, at its call site. */
async function cacheRead<T>(name: string, read: () => Promise<T>): Promise<T> {
  const c = als.getStore();
  const span: Span = { kind: 'cache', name, startMs: 0, durationMs: 0, location: callSite(), parent: 0, source: 'routelens' };
  const start = performance.now();
  if (c) {
    span.startMs = start - c.start;
    c.spans.push(span);
  }
  try {
    return await read();
  } finally {
    span.durationMs = performance.now() - start;
  }
}

/** A route handler recorded as the request's handler span, located where it is registered. */
function traced(name: string, fn: (req: express.Request, res: express.Response) => unknown): express.RequestHandler {
  const location = callSite();
  return (req, res, next) => {
    const c = als.getStore()!;
    const span: Span = { kind: 'handler', name, startMs: performance.now() - c.start, durationMs: 0, location };
    c.spans.unshift(span);
    const done = () => (span.durationMs = performance.now() - c.start - span.startMs);
    Promise.resolve(fn(req, res)).then(done, (err: unknown) => {
      done();
      next(err);
    });
  };
}

/** Line of this file holding `marker`. */
function lineOf(marker: string): number {
  const lines = readFileSync(__filename, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(marker) && !l.includes('lineOf('));
  assert.ok(i >= 0, marker);
  return i + 1;
}

describe('findings on a real agent and Express app', function () {
  this.timeout(30_000);
  let agent: Agent;
  let served: ServedApp;
  let base: string;
  let port: number;
  let auth: Record<string, string>;
  let client: Client;

  before(async () => {
    agent = createAgent({ express, discoveryDir: false, spans: false, cache: {}, evaluateMs: 50, thresholds: { cacheHitRate: 0.5, slowQueryMs: 100, eventLoopDelayMs: 3_600_000, heapPercent: 1, cpuPercent: 100_000 } }) as Agent;
    const engine = (agent as unknown as { findings: FindingsEngine }).findings;
    const app = express();
    app.use(agent.middleware());
    app.use((req, res, next) => {
      const c: Collector = { start: performance.now(), startedAt: Date.now(), spans: [] };
      res.once('finish', () => {
        const route = (req.route as { path?: string } | undefined)?.path ?? req.path;
        const trace: Trace = {
          id: `t-${c.startedAt}-${Math.random()}`,
          requestId: String(req.headers['x-request-id'] ?? 'none'),
          method: req.method,
          route,
          endpoint: `${req.method} ${route}`,
          status: res.statusCode,
          startedAt: c.startedAt,
          durationMs: performance.now() - c.start,
          // The handler span first (index 0, every query's parent), its children in start order.
          spans: c.spans,
          droppedSpans: 0,
          kept: 'recent',
        };
        engine.observe(trace);
      });
      als.run(c, next);
    });
    app.get(
      '/orders/:id',
      traced('getOrder', async (_req, res) => {
        for (let i = 0; i < 6; i++) await query('SELECT * FROM items WHERE order_id = ?', 2); // @sequential-n+1
        res.json({ ok: true });
      }),
    );
    app.get(
      '/fanout',
      traced('fanout', async (_req, res) => {
        await Promise.all(Array.from({ length: 6 }, () => query('GET users:?', 5, 'redis'))); // @concurrent-n+1
        res.json({ ok: true });
      }),
    );
    app.get(
      '/report',
      traced('report', async (_req, res) => {
        await query('SELECT pg_sleep(?)', 150); // @slow-query
        res.json({ ok: true });
      }),
    );
    app.get(
      '/dashboard',
      traced('dashboard', async (_req, res) => {
        await query('SELECT * FROM users WHERE id = ?', 15); // @sequential-awaits
        await query('GET rates.example/today', 15, 'http');
        res.json({ ok: true });
      }),
    );
    app.get(
      '/export', // @blocking-route
      traced('exportCsv', (_req, res) => {
        const start = process.cpuUsage();
        // 120 ms of CPU, synchronously: a loaded machine may stretch it, never shrink it.
        for (let cpu = process.cpuUsage(start); cpu.user + cpu.system < 120_000; cpu = process.cpuUsage(start)) {
          /* synchronous work */
        }
        res.json({ ok: true });
      }),
    );
    app.get(
      '/home',
      traced('home', async (_req, res) => {
        await query('SELECT * FROM settings', 12); // @cache-opportunity
        res.json({ ok: true });
      }),
    );
    app.get(
      '/search',
      traced('search', async (req, res) => {
        const key = `search:${String(req.query.q)}:${Date.now()}-${Math.random()}`;
        const hits = await cacheRead('cache.getOrSet search:?', () => agent.cache!.getOrSet(key, () => [])); // @low-hit-rate
        res.json(hits);
      }),
    );
    served = await serveAgentApp(agent, app);
    ({ base, port, auth } = served);
    client = new Client(`ws://127.0.0.1:${port}/v1/stream`, auth);
    await client.next(isType('snapshot'));
  });

  after(async () => {
    client?.ws.close();
    await served?.close();
  });

  const listed = async (): Promise<Finding[]> => {
    const reply = await http(port, 'GET', '/v1/findings', auth);
    assert.equal(reply.status, 200, reply.body);
    return (reply.json() as { findings: Finding[] }).findings;
  };
  const get = (path: string, requestId: string) => fetch(base + path, { headers: { 'x-request-id': requestId } }).then((r) => r.arrayBuffer());

  it('an N+1 (sequential and Promise.all) at the query line, with the request id', async () => {
    await get('/orders/7', 'req-orders');
    await get('/fanout', 'req-fanout');
    const findings = await listed();
    const seq = findings.find((f) => f.kind === 'n-plus-one' && f.endpoint === 'GET /orders/:id');
    assert.ok(seq, JSON.stringify(findings));
    assert.equal(seq.location.file, __filename);
    assert.equal(seq.location.line, lineOf('// @sequential-n+1'));
    assert.equal(seq.evidence.count, 6);
    assert.equal(seq.evidence.mode, 'sequential');
    assert.deepEqual(seq.requestIds, ['req-orders']);
    const fan = findings.find((f) => f.kind === 'n-plus-one' && f.endpoint === 'GET /fanout');
    assert.ok(fan);
    assert.equal(fan.location.line, lineOf('// @concurrent-n+1'));
    assert.equal(fan.evidence.mode, 'concurrent');
  });

  it('a slow query at its line, in the slow log, raising the slow-query alert', async () => {
    const fired = new Promise<Alert>((resolve) => agent.on('alert', (a) => a.rule === 'slow-query' && a.target === 'GET /report' && resolve(a)));
    await get('/report', 'req-report');
    // GET /report's own: under load another route's query may cross the threshold too.
    const f = (await listed()).find((x) => x.kind === 'slow-query' && x.endpoint === 'GET /report');
    assert.ok(f);
    assert.equal(f.location.line, lineOf('// @slow-query'));
    // A 150 ms timer may fire up to 1 ms early by performance.now() (timers run on the loop's millisecond clock).
    assert.ok(Number(f.evidence.durationMs) >= 149, JSON.stringify(f.evidence));
    const entry = agent.snapshot().slowRequests.find((s) => s.span !== undefined && s.requestId === 'req-report');
    assert.ok(entry, 'a slow-log entry for the query');
    assert.equal(entry.requestId, 'req-report');
    assert.equal(entry.span?.name, 'SELECT pg_sleep(?)');
    assert.equal(entry.span?.location?.line, lineOf('// @slow-query'));
    const alert = await fired;
    assert.equal(alert.target, 'GET /report');
    assert.equal(alert.location?.line, lineOf('// @slow-query'));
  });

  it('sequential awaits at the first call', async () => {
    await get('/dashboard', 'req-dashboard');
    const f = (await listed()).find((x) => x.kind === 'sequential-awaits' && x.endpoint === 'GET /dashboard');
    assert.ok(f);
    assert.equal(f.endpoint, 'GET /dashboard');
    assert.equal(f.location.line, lineOf('// @sequential-awaits'));
    assert.match(f.message, /may take/);
  });

  it('a blocking handler, at the handler, found by the lag probe', async () => {
    await get('/export', 'req-export');
    let f: Finding | undefined;
    await until(async () => (f = (await listed()).find((x) => x.kind === 'blocking' && x.endpoint === 'GET /export')) !== undefined, 5000, 50);
    assert.equal(f!.endpoint, 'GET /export');
    assert.equal(f!.location.line, lineOf("traced('exportCsv'"));
    assert.ok(Number(f!.evidence.blockedMs) >= 50, JSON.stringify(f!.evidence));
    assert.deepEqual(f!.requestIds, ['req-export']);
  });

  it('a cache opportunity at the repeated read', async () => {
    for (let i = 0; i < 5; i++) await get('/home', `req-home-${i}`);
    const f = (await listed()).find((x) => x.kind === 'cache-opportunity' && x.endpoint === 'GET /home');
    assert.ok(f);
    assert.equal(f.endpoint, 'GET /home');
    assert.equal(f.location.line, lineOf('// @cache-opportunity'));
    assert.equal(f.evidence.seen, 5);
  });

  it('a low hit rate at the cache call, from the cache\'s own events, with the key shape as the reason', async () => {
    for (let i = 0; i < 120; i++) await get(`/search?q=${i % 3}`, `req-search-${i}`);
    const engine = (agent as unknown as { findings: FindingsEngine }).findings;
    engine.readCacheEvents();
    engine.judge();
    const f = (await listed()).find((x) => x.kind === 'low-hit-rate');
    assert.ok(f, JSON.stringify(agent.snapshot().cache?.namespaces));
    assert.equal(f.endpoint, 'cache:search');
    assert.equal(f.location.line, lineOf('// @low-hit-rate'));
    assert.equal(f.evidence.reason, 'key-shape');
    assert.equal(f.evidence.hitRate, 0);
  });

  it('the findings.list command and the feed carry the same findings', async () => {
    const reply = await http(port, 'POST', '/v1/command', { ...auth, 'Content-Type': 'application/json' }, JSON.stringify({ command: 'findings.list', args: {} }));
    const viaCommand = (reply.json() as { findings: Finding[] }).findings;
    assert.deepEqual(new Set(viaCommand.map((f) => f.kind)), new Set(['n-plus-one', 'slow-query', 'sequential-awaits', 'blocking', 'cache-opportunity', 'low-hit-rate']));
    await until(() => client.messages.some((m) => m.type === 'delta' && m.delta.findings?.some((f) => f.kind === 'blocking')), 5000, 50);
    assert.deepEqual(agent.snapshot().findings?.map((f) => f.id).sort(), viaCommand.map((f) => f.id).sort());
  });
});
