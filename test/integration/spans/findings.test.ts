/**
 * Findings from the agent's own span recorder against a real PostgreSQL: an N+1 issued with
 * Promise.all, a slow query (also in the slow log), sequential awaits and a blocking handler,
 * each at the line of this file that made it, with the request id of a request that showed it.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import express from 'express';
import pg from 'pg';
import type { Finding, FindingKind } from '../../../protocol';
import { type Agent, createAgent } from '../../../agent';
import { type TestPostgres, hasPostgres, startPostgres } from '../../support/postgres';
import { type Served, lineOf, serve, sleep } from './helpers';

const FILE = __filename;

describe('findings from real PostgreSQL spans', function () {
  this.timeout(60_000);
  let postgres: TestPostgres;
  let agent: Agent;
  let pool: pg.Pool;
  let app: Served;

  before(async function () {
    if (!hasPostgres()) this.skip();
    postgres = await startPostgres();
    agent = createAgent({
      name: 'findings-pg-test',
      express,
      discoveryDir: false,
      token: 'b'.repeat(32),
      spans: { sample: 'all' },
      history: false,
      logger: false,
      thresholds: { slowQueryMs: 100 },
    });
    pool = new pg.Pool({ connectionString: postgres.url, max: 6 });
    pool.on('error', () => {}); // an idle client told that the test's server is stopping
    await pool.query('CREATE TABLE items (id int, order_id int, name text)');
    await pool.query("INSERT INTO items SELECT g, g % 10, 'item ' || g FROM generate_series(1, 100) g");
    const a = express();
    a.use(agent.middleware());
    a.get('/lines/:id', async (req, res) => {
      const ids = [1, 2, 3, 4, 5, 6].map((i) => Number(req.params.id) * 10 + i);
      res.json(await Promise.all(ids.map((id) => pool.query('SELECT name FROM items WHERE id = $1', [id])))); // @n-plus-one-all
    });
    a.get('/report', async (_req, res) => {
      await pool.query('SELECT pg_sleep(0.2) AS report'); // @slow-query
      res.end('ok');
    });
    a.get('/dashboard', async (_req, res) => {
      const users = await pool.query('SELECT pg_sleep(0.03) AS users'); // @sequential-awaits
      const orders = await pool.query('SELECT pg_sleep(0.03) AS orders');
      res.json([users.rowCount, orders.rowCount]);
    });
    a.get('/export', function exportCsv(_req, res) {
      const start = process.cpuUsage();
      let rows = 0;
      // the handler holds the event loop for 120 ms of CPU (a loaded machine may stretch it, never shrink it)
      for (let cpu = process.cpuUsage(start); cpu.user + cpu.system < 120_000; cpu = process.cpuUsage(start)) rows++;
      res.json({ rows });
    });
    app = await serve(a as unknown as http.RequestListener);
  });

  after(async () => {
    await app?.close();
    await agent?.close();
    await pool?.end();
    await postgres?.stop();
  });

  async function found(kind: FindingKind, endpoint: string): Promise<{ finding: Finding; requestId: string }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const path = endpoint.split(' ')[1]!.replace(':id', '4');
      const res = await fetch(`${app.url}${path}`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      const requestId = res.headers.get('x-request-id')!;
      for (let i = 0; i < 50; i++) {
        const { findings } = await agent.execute('findings.list', {});
        const finding = findings.find((f) => f.kind === kind && f.endpoint === endpoint && f.requestIds.includes(requestId));
        if (finding) return { finding, requestId };
        await sleep(20);
      }
    }
    const { findings } = await agent.execute('findings.list', {});
    throw new Error(`no ${kind} finding for ${endpoint}: ${JSON.stringify(findings.map((f) => [f.kind, f.endpoint]))}`);
  }

  it('an N+1 issued with Promise.all, at the query line', async () => {
    const { finding } = await found('n-plus-one', 'GET /lines/:id');
    assert.equal(finding.location.file, FILE);
    assert.equal(finding.location.line, lineOf(FILE, '@n-plus-one-all'));
    assert.equal(finding.evidence.count, 6);
    assert.equal(finding.evidence.mode, 'concurrent');
  });

  it('a slow query at its line, over slowQueryMs, also in the slow log', async () => {
    const { finding } = await found('slow-query', 'GET /report');
    assert.equal(finding.location.line, lineOf(FILE, '@slow-query'));
    assert.match(finding.message, /pg_sleep/);
    const slow = agent.snapshot().slowRequests;
    assert.ok(slow.some((s) => s.route === '/report' && s.span !== undefined), JSON.stringify(slow.slice(0, 3)));
  });

  it('sequential awaits of independent queries, at the first one', async () => {
    const { finding } = await found('sequential-awaits', 'GET /dashboard');
    assert.equal(finding.location.line, lineOf(FILE, '@sequential-awaits'));
    assert.match(finding.message, /may/);
  });

  it('a handler that blocks the event loop, at the handler', async () => {
    const { finding } = await found('blocking', 'GET /export');
    assert.equal(finding.location.file, FILE);
    assert.ok(Number(finding.evidence.blockedMs) >= 50, JSON.stringify(finding.evidence));
  });
});
