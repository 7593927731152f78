/**
 * Paths recorded from real traffic drive `routelens baseline` after a restart: a real Express app
 * with the agent and a temporary history directory is requested at concrete paths, stopped and
 * started again, and the plan (read from the running agent) drives its route with parameters
 * with those paths, saying they came from the history. A damaged paths file costs its paths,
 * never the app. Then the whole command line: the preloaded agent of a started app records the
 * paths, the app is stopped by SIGTERM, and `routelens baseline` drives the route with them;
 * and `routelens compare` drives a base that keeps no history with the head's paths.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PATHS_FILE } from '../../../agent/history/store';
import { AgentHttp } from '../../../cli/core/http';
import { RunningApp, sleep } from '../../../cli/perf/app';
import { planApp } from '../../../cli/perf/paths';
import type { BaselineReport, ComparisonReport } from '../../../cli/perf/report';
import type { HistoryAnswer } from '../../../protocol';
import { ROOT, type TestApp, startApp } from './helpers';
import { PERF_APP, QUICK, runPerfCli } from './perf-support';

const NO_PATH = 'has parameters, and no path was recorded or declared for it';

/** The paths file's text, '' before it exists. */
function recorded(dir: string): string {
  try {
    return readFileSync(join(dir, PATHS_FILE), 'utf8');
  } catch {
    return '';
  }
}

describe('recorded paths drive routelens baseline across a restart (a real app and agent)', function () {
  this.timeout(90_000);
  let dir: string;
  let app: TestApp | undefined;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'routelens-paths-history-'))));
  afterEach(async () => {
    await app?.close();
    app = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /users/:id is planned with the paths requested before the restart, source history; the query was never kept', async () => {
    app = await startApp('paths-app', { history: { dir } });
    assert.equal(await app.get('/users/42?token=s3cret'), 200);
    assert.equal(await app.get('/users/7'), 200);
    assert.equal(await app.get('/users'), 404);
    await app.close();
    app = undefined;
    assert.doesNotMatch(readFileSync(join(dir, PATHS_FILE), 'utf8'), /s3cret|token/);

    app = await startApp('paths-app', { history: { dir } });
    const plan = await planApp(new AgentHttp(app.record), undefined);
    const users = plan.targets.find((t) => t.id === 'GET /users/:id');
    assert.ok(users, JSON.stringify(plan));
    assert.equal(users.source, 'history');
    assert.deepEqual([...users.paths].sort(), ['/users/42', '/users/7']);
    assert.deepEqual(plan.skipped.find((s) => s.id === 'GET /orders/:id'), { id: 'GET /orders/:id', reason: NO_PATH }, 'a route never requested is still skipped');
    const answer = await app.api<HistoryAnswer>(`/v1/history?endpoint=${encodeURIComponent('GET /users/:id')}`);
    assert.deepEqual([...answer.paths!].sort(), ['/users/42', '/users/7'], 'GET /v1/history answers them too');
  });

  it('a corrupt paths file: the agent still starts and serves, and records afresh', async () => {
    writeFileSync(join(dir, PATHS_FILE), '\u0000{"v":1,"routes":{"GET /users/:id":[["/users/1",');
    app = await startApp('paths-app', { history: { dir } });
    assert.equal(await app.get('/users/3'), 200);
    const plan = await planApp(new AgentHttp(app.record), undefined);
    assert.deepEqual(plan.targets.find((t) => t.id === 'GET /users/:id')?.paths, ['/users/3']);
  });

  it('routelens baseline: the preloaded agent of an earlier run recorded the paths; the report says history', async () => {
    const env = { ROUTELENS_HISTORY: '1', ROUTELENS_HISTORY_DIR: dir };
    const first = await RunningApp.start({ cmd: PERF_APP, cwd: ROOT, startTimeoutMs: 30_000, env });
    try {
      for (const path of ['/items/42', '/items/7?secret=1']) assert.equal((await fetch(`${first.appUrl}${path}`)).status, 200);
      // Changed paths are written within seconds, so even an app killed by a signal keeps them.
      for (let i = 0; i < 100 && !recorded(dir).includes('/items/7'); i++) await sleep(100);
      assert.match(recorded(dir), /\/items\/42/);
    } finally {
      await first.stop();
    }
    const out = join(dir, 'baseline.json');
    const r = await runPerfCli(['baseline', '--cmd', PERF_APP, '--out', out, ...QUICK], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as BaselineReport;
    const items = report.routes.find((x) => x.id === 'GET /items/:id');
    assert.ok(items, JSON.stringify(report.skipped));
    assert.equal(items.source, 'history');
    assert.deepEqual([...items.paths!].sort(), ['/items/42', '/items/7']);
    assert.ok(items.count > 0, 'the route was driven');
    assert.match(readFileSync(join(dir, 'baseline.md'), 'utf8'), /\| `GET \/items\/:id` \|.*\| history \(2\) \|/);
  });

  it('routelens compare: a base with no history of its own is driven with the head\'s recorded paths, the same on both sides', async () => {
    writeFileSync(join(dir, PATHS_FILE), `${JSON.stringify({ v: 1, routes: { 'GET /items/:id': [['/items/5', Date.now()], ['/items/6', Date.now() - 1000]] } })}\n`);
    const out = join(dir, 'compare.json');
    const quick = ['--rounds', '1', '--duration', '1', '--warmup', '0.5', '--peak', '0', '--rate', '60'];
    const r = await runPerfCli(['compare', '--cmd', PERF_APP, '--base-cmd', `ROUTELENS_HISTORY=0 ${PERF_APP}`, '--out', out, ...quick], { env: { ROUTELENS_HISTORY: '1', ROUTELENS_HISTORY_DIR: dir } });
    const report = JSON.parse(readFileSync(out, 'utf8')) as ComparisonReport;
    assert.deepEqual(report.paths, [{ id: 'GET /items/:id', source: 'history', paths: ['/items/5', '/items/6'] }], r.stderr);
    assert.ok(report.routes.some((x) => x.id === 'GET /items/:id'), 'measured on both sides');
    assert.deepEqual([report.onlyBase, report.onlyHead], [[], []]);
    assert.match(r.stdout, /Paths of routes with parameters, the same on both sides: `GET \/items\/:id` from history \(2\)/);
  });
});
