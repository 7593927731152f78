import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSketch } from '../../../agent/metrics/sketch';
import type { BaselineReport } from '../../../cli/perf/report';
import type { SmokeReport } from '../../../cli/perf/smoke';
import { PERF_APP, PERF_SCENARIO, QUICK, alive, runPerfCli, spawnCli } from './perf-support';

describe('routelens baseline / smoke (a real app started with the agent preloaded)', function () {
  this.timeout(90_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'routelens-perf-test-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('baseline writes the agent figures of every driven route, with sketches, as JSON and Markdown; skipped routes are listed', async () => {
    const out = join(dir, 'baseline.json');
    const r = await runPerfCli(['baseline', '--cmd', PERF_APP, '--out', out, '--scenario', PERF_SCENARIO, ...QUICK]);
    assert.equal(r.code, 0, r.stderr);
    const b = JSON.parse(readFileSync(out, 'utf8')) as BaselineReport;
    assert.equal(b.version, 1);
    assert.deepEqual(b.routes.map((x) => x.id), ['GET /fail', 'GET /fast', 'GET /items/:id', 'GET /report', 'GET /work']);
    for (const route of b.routes) {
      assert.ok(route.count > 0, route.id);
      assert.equal(readSketch(route.sketch).count, route.count, `${route.id}: the sketch holds the route's requests`);
      assert.ok(route.p50 > 0 && route.p50 <= route.p95 && route.p95 <= route.p99, route.id);
      assert.ok(route.rps > 0, route.id);
    }
    assert.ok(b.routes.find((x) => x.id === 'GET /report')!.p50 >= 5, 'the 5 ms wait of /report shows in its p50');
    assert.deepEqual(b.skipped.map((s) => s.id), ['POST /orders']);
    const md = readFileSync(join(dir, 'baseline.md'), 'utf8');
    assert.match(md, /\| `GET \/items\/:id` \| \d+ \|/);
    assert.match(md, /`POST \/orders`: POST is driven only from a scenario file/);
  });

  it('smoke passes when every route answers within the limits, and writes its report', async () => {
    const out = join(dir, 'smoke.json');
    const r = await runPerfCli(['smoke', '--cmd', PERF_APP, '--max-p95', '2000', '--out', out, ...QUICK]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as SmokeReport;
    assert.equal(report.passed, true);
    assert.ok(report.routes.length >= 4);
    assert.ok(existsSync(join(dir, 'smoke.md')));
    assert.ok(report.skipped.some((s) => s.id === 'GET /items/:id' && /parameters/.test(s.reason)), 'a route with parameters and no values is skipped, not failed');
  });

  it('smoke exits 1 and names the route that answers 5xx', async () => {
    const r = await runPerfCli(['smoke', '--cmd', `PERF_MODE=fail-route ${PERF_APP}`, ...QUICK]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /1 route\(s\) failed: GET \/fail \(/);
    assert.match(r.stdout, /\| `GET \/fail` \| \d+ \| 100\.0 % \|.*\*\*failed\*\*/);
  });

  it('smoke exits 1 naming the routes over --max-p95, and only those', async () => {
    const out = join(dir, 'slow-smoke.json');
    const r = await runPerfCli(['smoke', '--cmd', PERF_APP, '--max-p95', '4', '--out', out, ...QUICK]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /GET \/report \(p95 [\d.]+ ms > 4 ms\)/, 'the route that waits 5 ms');
    const report = JSON.parse(readFileSync(out, 'utf8')) as SmokeReport;
    for (const route of report.routes) assert.equal(route.ok, route.p95 <= 4, `${route.id}: p95 ${route.p95}`);
  });

  describe('bad input: a clear error and a non-zero exit, nothing left running', () => {
    it('an app that exits at once', async () => {
      const r = await runPerfCli(['baseline', '--cmd', `PERF_MODE=exit ${PERF_APP}`, '--out', join(dir, 'x.json'), ...QUICK]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /the app exited with code 3 before it listened/);
      assert.match(r.stderr, /perf-app: exiting on purpose/, 'the app\'s last output is shown');
    });

    it('an app that never listens', async () => {
      const pidFile = join(dir, 'never.pid');
      const r = await runPerfCli(['baseline', '--cmd', `PERF_MODE=never-listen ${PERF_APP}`, '--out', join(dir, 'x.json'), '--start-timeout', '8', ...QUICK], { env: { PERF_PID_FILE: pidFile } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /the app did not listen within 8 s: its RouteLens agent started, but no server of the app listens/);
      assert.equal(alive(Number(readFileSync(pidFile, 'utf8'))), false, 'the app was stopped');
    });

    it('an app that listens on another port than --port', async () => {
      const r = await runPerfCli(['smoke', '--cmd', PERF_APP, '--port', '1', ...QUICK]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /the app listens on port \d+ \(as its agent reports\), not on --port 1/);
    });

    it('a scenario naming a route the app does not have lists the known routes', async () => {
      const scenario = join(dir, 'typo.json');
      writeFileSync(scenario, JSON.stringify({ routes: { 'GET /item/:id': { paths: ['/item/1'] } } }));
      const r = await runPerfCli(['baseline', '--cmd', PERF_APP, '--out', join(dir, 'x.json'), '--scenario', scenario, ...QUICK]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no route "GET \/item\/:id" in the app; its routes are:\n {2}GET \/fail\n {2}GET \/fast\n {2}GET \/items\/:id/);
    });

    it('a scenario with an unknown key names it', async () => {
      const scenario = join(dir, 'key.json');
      writeFileSync(scenario, JSON.stringify({ routes: { 'GET /items/:id': { path: ['/items/1'] } } }));
      const r = await runPerfCli(['baseline', '--cmd', PERF_APP, '--out', join(dir, 'x.json'), '--scenario', scenario]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /routes\["GET \/items\/:id"\]: unknown key "path" \(expected paths, headers, body\)/);
    });

    it('a missing --cmd is a usage error (exit 2)', async () => {
      const r = await runPerfCli(['smoke']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--cmd "<command that starts the app>" is required/);
    });

    it('a base ref that does not exist', async () => {
      const r = await runPerfCli(['compare', '--cmd', PERF_APP, '--base', 'no-such-ref-anywhere']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--base "no-such-ref-anywhere" is not a commit, branch or tag of this repository/);
    });
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} (Ctrl-C is SIGINT) stops the app it started, process group and all`, async () => {
      const pidFile = join(dir, `${signal}.pid`);
      const { child, done } = spawnCli(['baseline', '--cmd', PERF_APP, '--out', join(dir, 'sig.json'), '--duration', '30', '--warmup', '0.5'], { env: { PERF_PID_FILE: pidFile } });
      const t0 = Date.now();
      while (!existsSync(pidFile) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100));
      const appPid = Number(readFileSync(pidFile, 'utf8'));
      assert.ok(alive(appPid));
      await new Promise((r) => setTimeout(r, 2500)); // into the measurement
      child.kill(signal);
      const r = await done;
      assert.equal(r.code, signal === 'SIGINT' ? 130 : 143);
      const t1 = Date.now();
      while (alive(appPid) && Date.now() - t1 < 5000) await new Promise((res) => setTimeout(res, 50));
      assert.equal(alive(appPid), false, 'the app is gone');
    });
  }
});
