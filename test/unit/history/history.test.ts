/** The history facade with an injected clock: minutes across restarts, resolutions, commit markers, baselines. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProtocolError } from '../../../protocol';
import { History, fitResolution } from '../../../agent/history';
import { resolveHistory } from '../../../agent/history/options';
import { newSketch, sketchToBase64 } from '../../../agent/metrics/sketch';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../agent/history/store';
import { Diagnostics } from '../../../agent/log';
import { git } from '../../support/git';

const T0 = Date.UTC(2026, 5, 1, 9, 0);

describe('history', () => {
  let app: string;
  let now: number;
  const clock = () => now;
  const warnings: string[] = [];
  const diag = () => new Diagnostics({ warn: (l) => warnings.push(l), error: () => undefined });
  const open = (dir = join(app, '.routelens', 'history')) => new History({ dir, maxBytes: 1e8, cwd: app, gitignoreDir: join(app, '.routelens') }, { clock, diag: diag(), flushMs: 0, maintainMs: 0 });

  /** `n` requests to `id` of `ms` each, spread over the current minute. */
  function traffic(h: History, id: string, n: number, ms: number, errors = 0): void {
    for (let i = 0; i < n; i++) h.add(id, ms * (0.9 + 0.2 * ((i * 7919) % 100) / 100), i < errors, now + (i % 50) * 1000);
  }

  beforeEach(async () => {
    app = await mkdtemp(join(tmpdir(), 'routelens-app-'));
    git(app, 'init', '-q', '-b', 'main');
    await writeFile(join(app, 'a.txt'), '1');
    git(app, 'add', '.');
    git(app, 'commit', '-q', '-m', 'one');
    now = T0;
    warnings.length = 0;
  });
  afterEach(() => rm(app, { recursive: true, force: true }));

  it('keeps earlier minutes across a restart, each with the commit it ran under, and marks where the commit changed', async () => {
    const first = git(app, 'rev-parse', 'HEAD');
    let h = open();
    traffic(h, 'GET /a', 100, 10, 3);
    now += MINUTE_MS;
    traffic(h, 'GET /a', 50, 20);
    await h.close();
    assert.equal(await import('node:fs/promises').then((fs) => fs.readFile(join(app, '.routelens', '.gitignore'), 'utf8')), '*\n');

    await writeFile(join(app, 'a.txt'), '2');
    git(app, 'commit', '-q', '-am', 'two');
    const second = git(app, 'rev-parse', 'HEAD');
    now += 5 * MINUTE_MS;
    h = open();
    traffic(h, 'GET /a', 10, 30);
    const answer = await h.get({ endpoint: 'GET /a', from: T0 - HOUR_MS, to: now + MINUTE_MS });
    assert.equal(answer.resolution, 'minute');
    assert.deepEqual(answer.points.map((p) => [p.t, p.count, p.errors, p.git?.commit]), [
      [T0, 100, 3, first],
      [T0 + MINUTE_MS, 50, 0, first],
      [now, 10, 0, second],
    ]);
    assert.ok(answer.points[0]!.p95! > 9 && answer.points[0]!.p95! < 12);
    assert.ok(answer.points[1]!.p50! > 17);
    assert.deepEqual(answer.commits, [{ t: now, commit: second, branch: 'main', dirty: false }]);
    await h.close();
  });

  it('answers at the resolution that fits the span, merging minutes into hours', async () => {
    const h = open();
    for (let m = 0; m < 120; m += 30) {
      now = T0 + m * MINUTE_MS;
      traffic(h, 'GET /a', 10, 5);
    }
    now = T0 + 3 * HOUR_MS;
    assert.equal(fitResolution(6 * HOUR_MS), 'minute');
    assert.equal(fitResolution(6 * HOUR_MS + 1), 'hour');
    assert.equal(fitResolution(14 * DAY_MS), 'hour');
    assert.equal(fitResolution(15 * DAY_MS), 'day');
    const day = await h.get({ endpoint: 'GET /a' });
    assert.equal(day.resolution, 'hour');
    assert.equal(day.to - day.from, DAY_MS);
    assert.deepEqual(day.points.map((p) => [p.t, p.count]), [
      [T0, 20],
      [T0 + HOUR_MS, 20],
    ]);
    const minutes = await h.get({ endpoint: 'GET /a', from: T0, to: now, resolution: 'minute' });
    assert.equal(minutes.points.length, 4);
    assert.deepEqual((await h.get({ endpoint: 'GET /none' })).points, []);
    await assert.rejects(h.get({ endpoint: 'GET /a', from: 2, to: 1 }), (e: ProtocolError) => e.code === 'ERR_BAD_ARGS');
    await h.close();
  });

  it('compares the live minutes with the default branch figures of earlier runs: a 2× slowdown is regressed', async () => {
    let h = open();
    for (let m = 0; m < 5; m++, now += MINUTE_MS) {
      traffic(h, 'GET /slow', 200, 10);
      traffic(h, 'GET /same', 200, 10);
    }
    await h.close();
    now += HOUR_MS;
    h = open();
    for (let m = 0; m < 3; m++, now += MINUTE_MS) {
      traffic(h, 'GET /slow', 200, 20);
      traffic(h, 'GET /same', 200, 10);
    }
    const c = await h.compare();
    assert.equal(c.source, 'branch');
    assert.equal(c.name, 'main');
    const by = Object.fromEntries(c.endpoints.map((e) => [e.endpoint, e]));
    assert.equal(by['GET /slow']!.verdict, 'regressed');
    assert.equal(by['GET /slow']!.baseCount, 1000);
    assert.equal(by['GET /slow']!.headCount, 600);
    assert.equal(by['GET /same']!.verdict, 'unchanged');
    await h.close();
  });

  it('compares with a saved baseline file, remembered across restarts; refuses paths outside the app', async () => {
    const sketch = newSketch();
    for (let i = 0; i < 500; i++) sketch.accept(10 * (0.9 + 0.2 * ((i * 7919) % 100) / 100));
    await mkdir(join(app, 'perf'));
    await writeFile(join(app, 'perf', 'base.json'), JSON.stringify({ routes: [{ id: 'GET /slow', count: 500, sketch: sketchToBase64(sketch), p95: 11 }, { id: 'GET /bad', count: 5, sketch: 'garbage' }] }));
    let h = open();
    for (let m = 0; m < 2; m++, now += MINUTE_MS) traffic(h, 'GET /slow', 200, 25);
    const set = await h.setBaseline('perf/base.json');
    assert.equal(set.source, 'file');
    assert.equal(set.name, 'perf/base.json');
    assert.deepEqual(set.endpoints.map((e) => [e.endpoint, e.verdict, e.baseCount]), [['GET /slow', 'regressed', 500]]);
    await h.close();

    h = open();
    for (let m = 0; m < 2; m++, now += MINUTE_MS) traffic(h, 'GET /slow', 200, 10);
    const again = await h.compare();
    assert.equal(again.source, 'file');
    assert.equal(again.endpoints[0]!.verdict, 'unchanged');

    for (const outside of ['../x.json', '/etc/passwd', 'perf/../../x.json']) {
      await assert.rejects(h.setBaseline(outside), (e: ProtocolError) => e.code === 'ERR_BAD_ARGS', outside);
    }
    await assert.rejects(h.setBaseline('perf/missing.json'), (e: ProtocolError) => e.code === 'ERR_NOT_FOUND');
    await writeFile(join(app, 'perf', 'nojson.json'), '{"rout');
    await assert.rejects(h.setBaseline('perf/nojson.json'), (e: ProtocolError) => e.code === 'ERR_BAD_ARGS');
    assert.equal((await h.setBaseline(undefined)).source, 'branch');
    await h.close();
  });

  it('an unwritable store warns once and never throws; recording goes on', async () => {
    await writeFile(join(app, 'blocker'), 'x');
    const h = open(join(app, 'blocker', 'history'));
    traffic(h, 'GET /a', 10, 5);
    now += MINUTE_MS;
    traffic(h, 'GET /a', 10, 5);
    await h.recorder.flush();
    now += MINUTE_MS;
    traffic(h, 'GET /a', 10, 5);
    await h.close();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /ROUTELENS_WARN_HISTORY/);
    assert.deepEqual((await h.get({ endpoint: 'GET /a', from: T0, to: now })).points, []);
  });

  it('two writers in one directory both keep their minutes', async () => {
    const a = open();
    const b = open();
    traffic(a, 'GET /a', 10, 5);
    traffic(b, 'GET /a', 15, 5);
    await Promise.all([a.close(), b.close()]);
    assert.equal((await readdir(join(app, '.routelens', 'history'))).filter((f) => f.startsWith('m-')).length, 2);
    const h = open();
    assert.equal((await h.get({ endpoint: 'GET /a', from: T0, to: T0 })).points[0]!.count, 25);
    await h.close();
  });

  it('option: default in .routelens/history, the environment wins, false and ROUTELENS_HISTORY=0 turn it off', () => {
    assert.deepEqual(resolveHistory(undefined, { off: false, dir: undefined }, app), { dir: join(app, '.routelens', 'history'), maxBytes: 100 * 1024 * 1024, gitignoreDir: join(app, '.routelens'), cwd: app });
    assert.deepEqual(resolveHistory({ dir: 'h', maxBytes: 1 << 20 }, { off: false, dir: '/tmp/x' }, app), { dir: '/tmp/x', maxBytes: 1 << 20, cwd: app });
    assert.equal(resolveHistory(false, { off: false, dir: undefined }, app), false);
    assert.equal(resolveHistory({}, { off: true, dir: undefined }, app), false);
    assert.throws(() => resolveHistory({ maxBytes: 10 }, { off: false, dir: undefined }, app), /history\.maxBytes/);
    assert.throws(() => resolveHistory({ dri: 'x' }, { off: false, dir: undefined }, app), /did you mean "dir"/);
    assert.throws(() => resolveHistory('x', { off: false, dir: undefined }, app), /"history"/);
  });
});
