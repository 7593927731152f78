/** The history store on disk: its format, several writers, rollups, the bound, and damaged files. */
import assert from 'node:assert/strict';
import { appendFile, chmod, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Figures, emptyFigures } from '../../../agent/history/sketch';
import { quantile } from '../../../agent/metrics/sketch';
import { DAY_MS, HOUR_DAYS, HistoryStore, MINUTE_DAYS, MINUTE_MS, type Period, mergePeriods } from '../../../agent/history/store';

const T0 = Date.UTC(2026, 0, 10, 12, 0); // a minute start
const git = { commit: 'a'.repeat(40), branch: 'main', dirty: false };

function fig(n: number, ms: number, errors = 0): Figures {
  const f = emptyFigures();
  for (let i = 0; i < n; i++) f.sketch.accept(ms);
  f.count = n;
  f.errors = errors;
  return f;
}
const period = (t: number, endpoints: Record<string, Figures>, g = git): Period => ({ t, git: g, endpoints: new Map(Object.entries(endpoints)) });

describe('history store', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'routelens-history-'));
  });
  afterEach(async () => {
    await chmod(dir, 0o700).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('appends one JSON line per minute to a file named by its day and writer', async () => {
    const store = new HistoryStore({ dir, maxBytes: 1e8 });
    await store.append([period(T0, { 'GET /a': fig(3, 10, 1) }), period(T0 + MINUTE_MS, { 'GET /a': fig(1, 20) })]);
    const files = await readdir(dir);
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^m-\d+-\d+-[0-9a-f]+\.jsonl$/);
    assert.ok(files[0]!.startsWith(`m-${Math.floor(T0 / DAY_MS) * DAY_MS}-${process.pid}-`));
    const lines = (await readFile(join(dir, files[0]!), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { t: number; g: unknown; e: Record<string, number[]> });
    assert.equal(lines.length, 2);
    assert.equal(lines[0]!.t, T0);
    assert.deepEqual(lines[0]!.g, { c: git.commit, b: 'main', d: 0 });
    assert.deepEqual(lines[0]!.e['GET /a']!.slice(0, 3), [3, 1, 0]);
  });

  it('merges the same minute written by several processes (one file each)', async () => {
    const a = new HistoryStore({ dir, maxBytes: 1e8 });
    const b = new HistoryStore({ dir, maxBytes: 1e8 });
    await a.append([period(T0, { 'GET /a': fig(10, 10) })]);
    await b.append([period(T0, { 'GET /a': fig(30, 40), 'GET /b': fig(1, 1) })]);
    assert.equal((await readdir(dir)).length, 2);
    const merged = mergePeriods(await a.read(T0, T0 + MINUTE_MS, 'GET /a'), MINUTE_MS);
    assert.equal(merged.length, 1);
    const f = merged[0]!.endpoints.get('GET /a')!;
    assert.equal(f.count, 40);
    assert.ok(Math.abs(quantile(f.sketch, 0.5)! - 40) < 1);
    assert.equal(merged[0]!.endpoints.has('GET /b'), false);
  });

  it('skips garbage bytes and a half-written last line, keeping the rest of the file', async () => {
    const store = new HistoryStore({ dir, maxBytes: 1e8 });
    await store.append([period(T0, { 'GET /a': fig(2, 5) })]);
    const file = join(dir, (await readdir(dir))[0]!);
    await appendFile(file, Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x7b, 0x22, 0x74, 0x0a]));
    await appendFile(file, '{"t":1,"e":{"GET /a":[1,0,0,99999,1]}}\n{"t":' + (T0 + MINUTE_MS) + ',"e":{"GET /a":[1,0,0,');
    const other = new HistoryStore({ dir, maxBytes: 1e8 });
    await other.append([period(T0 + 2 * MINUTE_MS, { 'GET /a': fig(1, 5) })]);
    const got = await store.read(T0 - DAY_MS, T0 + DAY_MS, 'GET /a');
    assert.deepEqual(got.map((p) => p.t), [T0, T0 + 2 * MINUTE_MS]);
  });

  it('a segment that cannot be read (a directory by that name, a dangling link) costs its data only', async () => {
    const a = new HistoryStore({ dir, maxBytes: 1e8 });
    await a.append([period(T0, { 'GET /a': fig(3, 5) })]);
    const day = Math.floor(T0 / DAY_MS) * DAY_MS;
    await mkdir(join(dir, `m-${day}-1-aaaa.jsonl`));
    await symlink(join(dir, 'gone'), join(dir, `m-${day}-2-bbbb.jsonl`));
    const got = mergePeriods(await a.read(T0, T0, 'GET /a'), MINUTE_MS);
    assert.equal(got[0]!.endpoints.get('GET /a')!.count, 3);
    await a.maintain(T0 + (MINUTE_DAYS + 1) * DAY_MS);
    assert.equal((await a.read(T0, T0, 'GET /a'))[0]!.endpoints.get('GET /a')!.count, 3);
  });

  it('an unwritable directory makes append reject (the recorder turns that into a warning)', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const store = new HistoryStore({ dir: join(dir, 'file', 'history'), maxBytes: 1e8 });
    await assert.rejects(store.append([period(T0, { 'GET /a': fig(1, 1) })]));
    assert.deepEqual(await store.read(0, Date.now()), []);
    await store.maintain(Date.now()); // no throw either
  });

  it('a read-only directory makes append reject', async function () {
    if (process.getuid?.() === 0) this.skip(); // root writes anywhere
    await chmod(dir, 0o500);
    const store = new HistoryStore({ dir: join(dir, 'sub'), maxBytes: 1e8 });
    await assert.rejects(store.append([period(T0, { 'GET /a': fig(1, 1) })]));
  });

  it(`rolls minutes up to hours after ${MINUTE_DAYS} days and hours to days after ${HOUR_DAYS} days, keeping counts and commits`, async () => {
    const store = new HistoryStore({ dir, maxBytes: 1e8 });
    const other = { ...git, commit: 'b'.repeat(40) };
    await store.append([
      period(T0, { 'GET /a': fig(5, 10) }),
      period(T0 + MINUTE_MS, { 'GET /a': fig(5, 30) }),
      period(T0 + 30 * MINUTE_MS, { 'GET /a': fig(2, 10) }, other),
      period(T0 + 2 * 60 * MINUTE_MS, { 'GET /a': fig(1, 10) }),
    ]);
    await store.maintain(T0 + MINUTE_DAYS * DAY_MS - DAY_MS); // not old enough yet
    assert.ok((await readdir(dir)).every((f) => f.startsWith('m-')));

    await store.maintain(T0 + (MINUTE_DAYS + 1) * DAY_MS);
    const day = Math.floor(T0 / DAY_MS) * DAY_MS;
    assert.deepEqual(await readdir(dir), [`h-${day}.jsonl`]);
    const hours = await store.read(day, day + DAY_MS, 'GET /a');
    assert.deepEqual(hours.map((p) => [p.t, p.git?.commit[0], p.endpoints.get('GET /a')!.count]), [
      [T0, 'a', 10],
      [T0, 'b', 2],
      [T0 + 2 * 3_600_000, 'a', 1],
    ]);

    await store.maintain(T0 + (HOUR_DAYS + 1) * DAY_MS);
    assert.deepEqual(await readdir(dir), [`d-${day}.jsonl`]);
    const days = await store.read(day, day + DAY_MS, 'GET /a');
    assert.deepEqual(days.map((p) => [p.t, p.git?.commit[0], p.endpoints.get('GET /a')!.count]).sort(), [
      [day, 'a', 11],
      [day, 'b', 2],
    ]);
  });

  it('ignores and removes minute files left by an interrupted rollup (nothing counted twice)', async () => {
    const store = new HistoryStore({ dir, maxBytes: 1e8 });
    await store.append([period(T0, { 'GET /a': fig(5, 10) })]);
    const minuteFile = (await readdir(dir))[0]!;
    const text = await readFile(join(dir, minuteFile), 'utf8');
    await store.maintain(T0 + (MINUTE_DAYS + 1) * DAY_MS);
    await writeFile(join(dir, minuteFile), text); // as if the delete had not happened
    const got = await store.read(T0 - DAY_MS, T0 + DAY_MS, 'GET /a');
    assert.equal(got.reduce((n, p) => n + p.endpoints.get('GET /a')!.count, 0), 5);
    await store.maintain(T0 + (MINUTE_DAYS + 1) * DAY_MS);
    assert.equal((await readdir(dir)).some((f) => f.startsWith('m-')), false);
  });

  it('prunes the oldest files until the store fits its bound', async () => {
    const store = new HistoryStore({ dir, maxBytes: 2000 });
    const big: Record<string, Figures> = {};
    for (let i = 0; i < 20; i++) big[`GET /route-${i}`] = fig(3, 1 + i);
    for (let d = 0; d < 6; d++) {
      const writer = new HistoryStore({ dir, maxBytes: 2000 });
      await writer.append([period(T0 + d * DAY_MS, big)]);
    }
    const before = await store.segments();
    assert.ok(before.reduce((n, s) => n + s.bytes, 0) > 2000);
    await store.maintain(T0 + 6 * DAY_MS);
    const after = await store.segments();
    assert.ok(after.reduce((n, s) => n + s.bytes, 0) <= 2000);
    const days = after.map((s) => s.day).sort();
    assert.equal(days.at(-1), Math.floor((T0 + 5 * DAY_MS) / DAY_MS) * DAY_MS, 'the newest day is kept');
    assert.ok(days[0]! > Math.floor(T0 / DAY_MS) * DAY_MS, 'the oldest day went first');
  });

  it('a maintenance lock held by another process makes maintenance a no-op; a stale one is taken over', async () => {
    const store = new HistoryStore({ dir, maxBytes: 1e8 });
    await store.append([period(T0, { 'GET /a': fig(5, 10) })]);
    await writeFile(join(dir, 'maintain.lock'), '1\n');
    await store.maintain(Date.now());
    assert.ok((await readdir(dir)).some((f) => f.startsWith('m-')));
    await store.maintain(Date.now() + 11 * MINUTE_MS);
    assert.equal((await readdir(dir)).includes('maintain.lock'), false);
  });
});
