import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComparisonReport } from '../../../cli/perf/report';
import { ROOT } from './helpers';
import { PERF_APP, PERF_SCENARIO, runPerfCli } from './perf-support';

/**
 * Alternating rounds of fresh processes on this shared, noisy 2-core machine, a few seconds
 * paced at 150 req/s per process: five rounds is the fewest whose A/A test can reach a verdict
 * (5 against 5 at the 1 % level allows one inversion). The planted slowdown runs six, so that
 * a round a loaded machine loses on each side still leaves a verdict within reach.
 */
const rounds = (seconds: number, n = 5) => ['--rounds', String(n), '--duration', String(seconds), '--warmup', '0.5', '--peak', '0', '--rate', '150', '--scenario', PERF_SCENARIO];

function flagged(report: ComparisonReport): string[] {
  return report.routes.filter((r) => r.verdict === 'regressed' || r.verdict === 'improved').map((r) => `${r.id} ${r.verdict}`);
}

describe('routelens compare in alternating rounds (a planted slowdown, and A/A runs)', function () {
  this.timeout(400_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'routelens-compare-test-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('flags exactly the route made slower, and exits 1', async () => {
    const out = join(dir, 'slow.json');
    const r = await runPerfCli(['compare', '--cmd', `PERF_SLOW_ROUTE=report ${PERF_APP}`, '--base-cmd', PERF_APP, '--out', out, ...rounds(3, 6)]);
    const report = JSON.parse(readFileSync(out, 'utf8')) as ComparisonReport;
    assert.deepEqual(flagged(report), ['GET /report regressed'], r.stdout);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\*\*1 route slower\*\* beyond 10 % on p95: `GET \/report`/);
  });

  for (const run of [1, 2, 3]) {
    it(`an A/A comparison of the unchanged app flags nothing (run ${run} of 3)`, async () => {
      const out = join(dir, `aa-${run}.json`);
      const r = await runPerfCli(['compare', '--cmd', PERF_APP, '--base-cmd', PERF_APP, '--out', out, ...rounds(2)]);
      const report = JSON.parse(readFileSync(out, 'utf8')) as ComparisonReport;
      assert.deepEqual(flagged(report), [], r.stdout);
      assert.equal(r.code, 0);
      assert.equal(report.routes.length, 5);
    });
  }

  it('two baseline files (`compare base.json head.json`): the route made slower is regressed and the exit code 1; a third file is a usage error', async () => {
    const [base, head] = [join(dir, 'files-base.json'), join(dir, 'files-head.json')];
    const load = ['--duration', '2', '--peak', '0', '--warmup', '0.5', '--rate', '100', '--scenario', PERF_SCENARIO];
    assert.equal((await runPerfCli(['baseline', '--cmd', PERF_APP, '--out', base, ...load])).code, 0);
    assert.equal((await runPerfCli(['baseline', '--cmd', `PERF_SLOW_ROUTE=report ${PERF_APP}`, '--out', head, ...load])).code, 0);
    const out = join(dir, 'files.json');
    const r = await runPerfCli(['compare', base, head, '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as ComparisonReport;
    assert.equal(report.method, 'files');
    assert.ok(flagged(report).includes('GET /report regressed'), r.stdout);
    assert.equal(report.warnings, undefined, 'both files were measured under the same load');
    const three = await runPerfCli(['compare', base, head, head]);
    assert.equal(three.code, 2);
    assert.match(three.stderr, /give two baseline files/);
  });

  it('--base <ref> runs the ref from a temporary git worktree and removes it', async () => {
    const repo = join(dir, 'repo');
    execFileSync('mkdir', ['-p', repo]);
    copyFileSync(join(ROOT, 'test/fixtures/perf/app.cjs'), join(repo, 'app.cjs'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    git('add', 'app.cjs');
    git('commit', '-qm', 'base');
    // The head (the working tree) has one route more than the base.
    const head = readFileSync(join(repo, 'app.cjs'), 'utf8').replace("app.get('/fast',", "app.get('/added', (_req, res) => res.json({ added: true }));\napp.get('/fast',");
    writeFileSync(join(repo, 'app.cjs'), head);
    const out = join(dir, 'ref.json');
    const r = await runPerfCli(['compare', '--cmd', 'node app.cjs', '--base', 'main', '--out', out, '--rounds', '1', '--duration', '1', '--warmup', '0.5', '--peak', '0'], { cwd: repo });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8')) as ComparisonReport;
    assert.deepEqual(report.onlyHead, ['GET /added']);
    assert.ok(report.routes.some((x) => x.id === 'GET /fast'));
    assert.equal(git('worktree', 'list').trim().split('\n').length, 1, 'the temporary worktree is gone');
  });
});
