/** Recorded request paths: the bounded set per route, its file in the store, and how the metrics sample answers into it. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_PATH_ROUTES, MAX_RECORDED_PATH, PATHS_PER_ROUTE, RecordedPaths, cleanPath, decodePaths, encodePaths, replayable } from '../../../agent/history/paths';
import { HistoryRecorder } from '../../../agent/history/recorder';
import { HistoryStore, PATHS_FILE } from '../../../agent/history/store';
import type { RequestSample } from '../../../agent/internal';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { createMetrics } from '../../../agent/metrics';

const T = Date.UTC(2026, 0, 10, 12, 0);
const ID = 'GET /users/:id';

describe('recorded paths (RecordedPaths)', () => {
  it('keeps each distinct path once, newest seen first', () => {
    const p = new RecordedPaths();
    assert.equal(p.add(ID, '/users/1', T), true);
    assert.equal(p.add(ID, '/users/2', T + 1), true);
    assert.equal(p.add(ID, '/users/1', T + 2), false, 'a path already held is not new');
    assert.deepEqual(p.get(ID), ['/users/1', '/users/2']);
    assert.deepEqual(p.get('GET /other/:id'), []);
  });

  it('drops the query (values may be secrets) and the fragment, and treats /a?x and /a as one path', () => {
    const p = new RecordedPaths();
    p.add(ID, '/users/1?token=s3cret&page=2', T);
    p.add(ID, '/users/1', T + 1);
    p.add(ID, '/users/2#top', T + 2);
    assert.deepEqual(p.get(ID), ['/users/2', '/users/1']);
    assert.doesNotMatch(encodePaths(p), /s3cret|token|page/);
  });

  it(`keeps at most ${PATHS_PER_ROUTE} paths per route: a new one replaces the one seen longest ago, and add() says when the route is full`, () => {
    const p = new RecordedPaths();
    const answers: boolean[] = [];
    for (let i = 0; i < PATHS_PER_ROUTE; i++) answers.push(p.add(ID, `/users/${i}`, T + i));
    assert.deepEqual(answers, [...Array<boolean>(PATHS_PER_ROUTE - 1).fill(true), false]);
    p.add(ID, '/users/0', T + 100); // seen again: now the newest
    assert.equal(p.add(ID, '/users/new', T + 200), false);
    const kept = p.get(ID);
    assert.equal(kept.length, PATHS_PER_ROUTE);
    assert.deepEqual(kept.slice(0, 2), ['/users/new', '/users/0']);
    assert.ok(!kept.includes('/users/1'), 'the one seen longest ago was replaced');
  });

  it(`keeps at most ${MAX_PATH_ROUTES} routes, whatever the ids`, () => {
    const p = new RecordedPaths();
    for (let i = 0; i < MAX_PATH_ROUTES + 50; i++) p.add(`GET /r${i}/:id`, `/r${i}/1`, T + i);
    assert.equal(p.entries().size, MAX_PATH_ROUTES);
    const merged = new RecordedPaths();
    merged.merge(new Map(Array.from({ length: MAX_PATH_ROUTES + 50 }, (_, i) => [`GET /m${i}/:id`, [[`/m${i}/1`, T + i]]] as [string, Array<[string, number]>])));
    assert.equal(merged.entries().size, MAX_PATH_ROUTES);
    assert.ok(merged.entries().has(`GET /m${MAX_PATH_ROUTES + 49}/:id`), 'the routes seen last are the ones kept');
  });

  it('keeps no hostile or huge URL: too long, not a path, controls, spaces, raw non-ASCII', () => {
    const p = new RecordedPaths();
    const huge = `/users/${'a'.repeat(64 * 1024)}`;
    for (const url of [huge, 'http://evil.example/users/1', '', 'users/1', '/users/1\r\nX-Injected: 1', '/users/a b', '/users/é', '/users/\u0000', undefined as unknown as string]) {
      assert.equal(p.add(ID, url, T), false, JSON.stringify(url?.slice(0, 40)));
    }
    assert.deepEqual(p.get(ID), []);
    const longest = `/${'x'.repeat(MAX_RECORDED_PATH - 1)}`;
    assert.equal(cleanPath(longest), longest);
    assert.equal(cleanPath(`${longest}x`), undefined, 'a cut path is not a real one: not kept at all');
    assert.equal(cleanPath(`${longest}?q=${'v'.repeat(10_000)}`), longest, 'a long query does not count');
    assert.equal(p.add(ID, '/users/%E2%9C%93', T), true, 'percent-encoded bytes are kept');
  });

  it('replayable: GET and HEAD routes with parameters only', () => {
    assert.equal(replayable('GET', '/users/:id'), true);
    assert.equal(replayable('HEAD', '/files/*rest'), true);
    assert.equal(replayable('GET', '/users'), false);
    assert.equal(replayable('POST', '/users/:id'), false);
  });
});

describe('the paths file (encodePaths / decodePaths)', () => {
  it('round-trips, times included', () => {
    const p = new RecordedPaths();
    p.add(ID, '/users/42', T);
    p.add(ID, '/users/7', T + 5);
    const text = encodePaths(p);
    assert.deepEqual(JSON.parse(text), { v: 1, routes: { [ID]: [['/users/7', T + 5], ['/users/42', T]] } });
    assert.deepEqual([...decodePaths(text)], [[ID, [['/users/7', T + 5], ['/users/42', T]]]]);
  });

  it('drops what it did not write: garbage, another version, bad entries, too many paths', () => {
    for (const text of ['', 'not json', 'null', '[]', '{"v":2,"routes":{}}', '{"v":1,"routes":[]}', '\u0000\u0001garbage{']) assert.equal(decodePaths(text).size, 0, text);
    const many = Array.from({ length: 50 }, (_, i) => [`/u/${i}`, T]);
    const text = JSON.stringify({
      v: 1,
      routes: {
        [ID]: [['/users/1', T], ['no-slash', T], ['/users/2', -1], ['/users/3', 'x'], [`/${'y'.repeat(MAX_RECORDED_PATH)}`, T], ['/users/4 x', T], 'flat', ['/users/5', T, 1]],
        'GET /many/:id': many,
        'GET /bad/:id': 'nope',
      },
    });
    const d = decodePaths(text);
    assert.deepEqual(d.get(ID), [['/users/1', T]]);
    assert.equal(d.get('GET /many/:id')!.length, PATHS_PER_ROUTE);
    assert.equal(d.has('GET /bad/:id'), false);
  });
});

describe('recorded paths in the store (HistoryRecorder)', () => {
  let dir: string;
  const diag = new Diagnostics(silentLogger);
  const recorder = (clock = () => T) => new HistoryRecorder({ store: new HistoryStore({ dir, maxBytes: 1e8 }), clock, diag, flushMs: 0, maintainMs: 0 });
  beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'routelens-paths-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('survive a restart: close() writes them, the next recorder reads them back', async () => {
    const a = recorder();
    // A request's start time is fractional (the clock less its duration).
    a.addPath(ID, '/users/42?secret=1', T + 0.25);
    a.addPath(ID, '/users/7', T + 1.5);
    await a.close();
    assert.doesNotMatch(await readFile(join(dir, PATHS_FILE), 'utf8'), /secret/);
    const b = recorder();
    assert.deepEqual(await b.recordedPaths(ID), ['/users/7', '/users/42']);
    await b.close();
  });

  it("two writers: each write merges the file's paths first, so neither loses the other's", async () => {
    const a = recorder();
    const b = recorder();
    a.addPath(ID, '/users/1', T);
    b.addPath(ID, '/users/2', T + 1);
    b.addPath('GET /orders/:id', '/orders/9', T + 2);
    await a.savePaths();
    await b.savePaths();
    const c = recorder();
    assert.deepEqual(await c.recordedPaths(ID), ['/users/2', '/users/1']);
    assert.deepEqual(await c.recordedPaths('GET /orders/:id'), ['/orders/9']);
    await Promise.all([a.close(), b.close(), c.close()]);
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
  });

  it('a corrupt or oversized file costs its paths, never the recorder', async () => {
    await writeFile(join(dir, PATHS_FILE), '{"v":1,"routes":{"GET /users/:id":[["/users/1",1');
    const a = recorder();
    assert.deepEqual(await a.recordedPaths(ID), []);
    a.addPath(ID, '/users/3', T);
    await a.close();
    assert.deepEqual([...decodePaths(await readFile(join(dir, PATHS_FILE), 'utf8')).keys()], [ID], 'the next write replaces the damaged file');
    await writeFile(join(dir, PATHS_FILE), `{"v":1,"routes":{"GET /users/:id":[["/users/1",1]]},"pad":"${'x'.repeat(5 * 1024 * 1024)}"}`);
    const b = recorder();
    assert.deepEqual(await b.recordedPaths(ID), [], 'a file larger than any agent writes is not read');
    await b.close();
  });
});

describe('sampling answers into the recorded paths (MetricsCore.record)', () => {
  const sample = (method: string, route: string | undefined, status: number, url: string): RequestSample => ({ method, route, status, duration: 1, aborted: false, threw: false, url, requestId: 'r', start: T });

  function metricsWith(calls: string[], fresh = (n: number) => n < 3) {
    return createMetrics({ diag: new Diagnostics(silentLogger), systemIntervalMs: 0, history: { add() {}, addPath: (id, url) => fresh(calls.push(`${id} ${url}`) - 1) } });
  }

  it('takes 2xx and 3xx answers of GET/HEAD routes with parameters only', () => {
    const calls: string[] = [];
    const m = metricsWith(calls);
    for (const [method, route] of [['GET', '/users/:id'], ['POST', '/users/:id'], ['GET', '/users'], ['HEAD', '/files/*rest']] as const) m.registerRoute({ method, route });
    m.record(sample('GET', '/users/:id', 404, '/users/404'));
    m.record(sample('GET', '/users/:id', 500, '/users/500'));
    m.record(sample('POST', '/users/:id', 201, '/users/9'));
    m.record(sample('GET', '/users', 200, '/users'));
    m.record(sample('GET', undefined, 200, '/nowhere'));
    m.record(sample('GET', '/users/:id', 200, '/users/1'));
    m.record(sample('HEAD', '/files/*rest', 304, '/files/a.txt'));
    m.close();
    assert.deepEqual(calls, ['GET /users/:id /users/1', 'HEAD /files/*rest /files/a.txt']);
  });

  it('samples densely while paths are new, then ever more rarely: at most one answer in 256 in a steady state', () => {
    const calls: string[] = [];
    const m = metricsWith(calls);
    m.registerRoute({ method: 'GET', route: '/users/:id' });
    const s = sample('GET', '/users/:id', 200, '/users/1');
    for (let i = 0; i < 3; i++) m.record(s);
    assert.equal(calls.length, 3, 'each answer taken while its path was new');
    for (let i = 0; i < 100_000; i++) m.record(s);
    m.close();
    // After the new paths: every 2, 4, … 256 answers, then every 256th.
    assert.ok(calls.length < 3 + 8 + 100_000 / 256 + 1, `${calls.length} answers taken of 100003`);
    assert.ok(calls.length > 100_000 / 256 - 10, `${calls.length}: the newest paths are still sampled`);
  });
});
