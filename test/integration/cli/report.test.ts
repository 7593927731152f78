/** `routelens report` and `routelens agents` as a user runs them, against the real agent in a real Express 5 app. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Snapshot } from '../../../protocol';
import type { ExecutiveSummary } from '../../../cli/core/summary';
import { type TestApp, emptyDir, runCli, startApp } from './helpers';

describe('routelens report and agents (a real agent)', function () {
  this.timeout(60_000);
  let app: TestApp;

  before(async () => {
    app = await startApp('report-app');
    for (let i = 0; i < 6; i++) assert.equal(await app.get(`/users/${i}`), 200);
    assert.equal(await app.get('/slow'), 200);
  });

  after(() => app?.close());

  it('report --format json writes the executive summary of /v1/snapshot', async () => {
    const r = await runCli(['report', '--format', 'json'], app.discoveryDir);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as ExecutiveSummary;
    const snap = await app.api<Snapshot>('/v1/snapshot');
    assert.equal(s.routelensSummary, 1);
    assert.equal(s.agent.name, 'report-app');
    assert.equal(s.agent.pid, process.pid);
    assert.equal(s.status, snap.health.status);
    assert.equal(s.score, snap.health.score);
    assert.equal(s.metrics.requestsTotal, 7);
    assert.deepEqual(
      s.slowestRoutes.map((x) => x.route),
      ['GET /slow', 'GET /users/:id'],
    );
    assert.equal(s.metrics.cache?.redis, 'none');
    assert.equal(r.stdout.includes(app.record.token), false);
  });

  it('report --format md --out writes Markdown with the key metrics, app strings escaped', async () => {
    await app.get('/users/1');
    const out = join(app.discoveryDir, 'summary.md');
    const r = await runCli(['report', '--format', 'md', '--agent', 'report-app', '--out', out], app.discoveryDir);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const md = readFileSync(out, 'utf8');
    assert.match(md, /^# Executive summary: report\\-app$/m);
    assert.match(md, /^\*\*Status:\*\* healthy, health score \d+\/100/m);
    assert.match(md, /^\| requests \| 8 in all, 8 in the last 5 min, /m);
    assert.match(md, /^\| p95 \(5 min\) \| slowest route GET \/slow: \d+ ms/m);
    assert.match(md, /^\| Redis \| none \|$/m);
    assert.match(md, /^## Recommendations$/m);
  });

  it('agents lists the running agent; --json too; none running exits 1', async () => {
    const table = await runCli(['agents'], app.discoveryDir);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^${process.pid}\\s+report-app\\s+http://127\\.0\\.0\\.1:${app.record.port}\\s+`, 'm'));
    const json = await runCli(['agents', '--json'], app.discoveryDir);
    assert.deepEqual(
      (JSON.parse(json.stdout) as Array<{ pid: number; name: string }>).map((a) => [a.pid, a.name]),
      [[process.pid, 'report-app']],
    );
    const empty = emptyDir();
    try {
      const none = await runCli(['agents'], empty.dir);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /No RouteLens agent is running/);
      const report = await runCli(['report'], empty.dir);
      assert.equal(report.code, 1);
      assert.match(report.stderr, /No RouteLens agent is running/);
    } finally {
      empty.remove();
    }
  });

  it('--help lists every command; a bad option is a usage error (exit 2)', async () => {
    const help = await runCli(['--help'], app.discoveryDir);
    assert.equal(help.code, 0);
    for (const c of ['agents', 'report', 'mcp']) assert.match(help.stdout, new RegExp(`^  ${c} `, 'm'));
    const bad = await runCli(['report', '--nope'], app.discoveryDir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Usage: routelens report/);
  });
});
