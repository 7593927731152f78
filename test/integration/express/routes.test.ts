/**
 * instrumentExpress + createMiddleware against real Express 4 and 5 servers: templates at request
 * time, route definitions before any request (with exact source locations), matchRoute.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RouteTable, instrumentExpress } from '../../../agent/express/instrument';
import { createMiddleware } from '../../../agent/express/middleware';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { buildApp } from '../../fixtures/express-apps/basic';
import { type MemoryRecorder, type Running, get, listen, markerLocation, memoryRecorder, until, versions } from './support';

const fixtureFile = join(__dirname, '../../fixtures/express-apps/basic.ts');
const fixtureSource = readFileSync(fixtureFile, 'utf8');
const handlersFile = join(__dirname, '../../fixtures/express-apps/handlers.ts');

for (const [name, express] of versions) {
  describe(`express routes (${name})`, () => {
    let rec: MemoryRecorder;
    let table: RouteTable;
    let server: Running;
    let diag: Diagnostics;

    before(async () => {
      rec = memoryRecorder();
      diag = new Diagnostics(silentLogger);
      table = instrumentExpress(express, { registerRoute: (d) => rec.registerRoute(d), diag })!;
      assert.ok(table, 'instrumentExpress returns a route table');
      const { app } = buildApp(express, { before: createMiddleware(rec, { diag }), asyncErrors: name === 'express5' });
      server = await listen(app);
    });
    after(async () => {
      table.detach();
      await server.close();
    });
    beforeEach(() => {
      rec.samples.length = 0;
    });

    async function routeOf(path: string, method = 'GET'): Promise<string | undefined> {
      const before = rec.samples.length;
      await get(server.port, path, { method });
      await until(() => rec.samples.length > before);
      assert.equal(rec.samples.length, before + 1, `one sample for ${method} ${path}`);
      return rec.samples[before]!.route;
    }

    it('instrumentExpress is idempotent; a new sink gets only routes registered after it attached', async () => {
      const again = memoryRecorder();
      const t2 = instrumentExpress(express, again)!;
      try {
        assert.equal(again.defs.length, 0, 'earlier apps’ routes are not replayed');
        const app = (express as () => import('express').Express)();
        app.get('/idempotent/:x', (_req, res) => void res.end());
        await Promise.resolve(); // an app's own routes are reported at the end of the synchronous run
        assert.deepEqual(again.defs.map((d) => `${d.method} ${d.route}`), ['GET /idempotent/:x'], 'reported once, not once per instrument call');
        assert.equal(rec.defs.filter((d) => d.route === '/idempotent/:x').length, 1);
      } finally {
        t2.detach();
      }
    });

    it('reports every route before any request, with full templates', () => {
      const keys = new Set(rec.defs.map((d) => `${d.method} ${d.route}`));
      for (const key of [
        'GET /users/:id',
        'ALL /any',
        'GET /orders',
        'GET /api/items/:itemId',
        'POST /api/late',
        'GET /orgs/:org/users/:id',
        'GET /orgs/:org/teams/:team/users/:id',
        'GET /books/:isbn',
        'POST /books/:isbn',
        'GET /v1/status',
        'GET /v2/status',
        'GET /a',
        'GET /b',
        'GET /^\\/re(\\d+)$/',
        'GET /pets/cats',
        'GET /pets/dogs',
        'GET /things',
        'DELETE /things/:id',
      ]) {
        assert.ok(keys.has(key), `missing ${key}; got ${[...keys].join(', ')}`);
      }
      assert.ok(!keys.has('GET /items/:itemId'), 'a mounted router is never reported without its prefix');
      assert.ok(!keys.has('GET /status'));
      assert.equal(rec.defs.filter((d) => d.method === 'ALL' && d.route === '/any').length, 1, 'app.all is one ALL route');
      assert.equal(diag.failures.size, 0, `no internal failures: ${[...diag.failures.keys()].join()}`);
    });

    it('points each route at the registration call: file, line and column', () => {
      const cases: Array<[string, string, string]> = [
        ['GET /users/:id', 'users', 'get('],
        ['GET /api/items/:itemId', 'api-item', 'get('],
        ['POST /api/late', 'late', 'post('],
        ['GET /pets/cats', 'loop', 'get('],
        ['GET /pets/dogs', 'loop', 'get('],
        ['GET /things', 'helper-get', 'get('],
        ['GET /orders', 'orders', 'get('],
      ];
      for (const [key, marker, call] of cases) {
        const def = rec.def(key);
        assert.ok(def?.location, `${key} has a location`);
        assert.deepEqual(def.location, { file: fixtureFile, ...markerLocation(fixtureSource, marker, call) }, key);
      }
    });

    it('reports handlerLocation in the module that defines the handler, only when it differs', async () => {
      await until(() => rec.def('GET /orders')?.handlerLocation !== undefined);
      const loc = rec.def('GET /orders')!.handlerLocation!;
      const src = readFileSync(handlersFile, 'utf8').split('\n');
      const line = src.findIndex((l) => l.includes('export function listOrders')) + 1;
      assert.equal(loc.file, handlersFile);
      assert.equal(loc.line, line);
      assert.equal(rec.def('GET /users/:id')!.handlerLocation, undefined, 'inline handler: same line as registration');
    });

    it('records the matched template, never the raw URL', async () => {
      assert.equal(await routeOf('/users/42'), '/users/:id');
      assert.equal(await routeOf('/users/42?x=1'), '/users/:id');
      assert.equal(await routeOf('/api/items/7'), '/api/items/:itemId');
      assert.equal(await routeOf('/orgs/acme/users/3'), '/orgs/:org/users/:id');
      assert.equal(await routeOf('/orgs/acme/teams/red/users/3'), '/orgs/:org/teams/:team/users/:id');
      assert.equal(await routeOf('/books/978'), '/books/:isbn');
      assert.equal(await routeOf('/books/978', 'POST'), '/books/:isbn');
      assert.equal(await routeOf('/v1/status'), '/v1/status');
      assert.equal(await routeOf('/v2/status'), '/v2/status');
      assert.equal(await routeOf('/a'), '/a');
      assert.equal(await routeOf('/b'), '/b');
      assert.equal(await routeOf('/re123'), '/^\\/re(\\d+)$/');
      assert.equal(await routeOf('/any', 'DELETE'), '/any');
      assert.equal(await routeOf('/things/9', 'DELETE'), '/things/:id');
    });

    it('unmatched requests, 404s and unhandled methods have no route', async () => {
      assert.equal(await routeOf('/nope/1'), undefined);
      assert.equal(await routeOf('/api/nothing'), undefined);
      assert.equal(await routeOf('/users/1', 'PUT'), undefined);
      assert.equal(await routeOf('/api/late'), undefined, 'GET on a POST-only route');
      assert.equal(rec.samples.at(-1)!.status, 404);
    });

    it('sets method, status, request id and url on the sample', async () => {
      await get(server.port, '/users/5?q=1', { headers: { 'x-request-id': 'abc-123' } });
      await get(server.port, '/users/6', { headers: { 'x-request-id': 'bad id <script>' } });
      await until(() => rec.samples.length === 2);
      const [a, b] = rec.samples as [typeof rec.samples[0], typeof rec.samples[0]];
      assert.equal(a.requestId, 'abc-123');
      assert.notEqual(b.requestId, 'bad id <script>');
      assert.ok(b.requestId.length > 0);
      assert.equal(a.url, '/users/5?q=1');
      assert.equal(a.method, 'GET');
      assert.equal(a.status, 200);
      assert.equal(a.aborted, false);
      assert.equal(a.threw, false);
      assert.ok(a.duration >= 0);
      assert.ok(Math.abs(a.start - Date.now()) < 60_000);
    });

    it("a sample's start is wall-clock time even when the monotonic clock has fallen behind it (a laptop slept)", async () => {
      const slept = memoryRecorder();
      // performance.now() does not advance while the machine sleeps: start + duration must not come from it.
      const behind = () => performance.now() - 3_600_000;
      const { app } = buildApp(express, { before: createMiddleware(slept, { diag: new Diagnostics(silentLogger), now: behind }) });
      const s = await listen(app);
      try {
        const before = Date.now();
        await get(s.port, '/users/1');
        await until(() => slept.samples.length === 1);
        const start = slept.samples[0]!.start;
        assert.ok(start >= before - 50 && start <= Date.now(), `start ${start - before} ms from the request`);
      } finally {
        await s.close();
      }
    });

    it('matchRoute attributes a path to the template it would match', () => {
      assert.equal(table.match('GET', '/users/9'), '/users/:id');
      assert.equal(table.match('HEAD', '/users/9'), '/users/:id');
      assert.equal(table.match('GET', '/orgs/a/teams/b/users/c?x=1'), '/orgs/:org/teams/:team/users/:id');
      assert.equal(table.match('PATCH', '/any'), '/any');
      assert.equal(table.match('GET', '/re55'), '/^\\/re(\\d+)$/');
      assert.equal(table.match('POST', '/users/9'), undefined);
      assert.equal(table.match('GET', '/users/9/extra'), undefined);
      assert.equal(table.match('GET', '/x'.repeat(40_000)), undefined);
    });
  });
}
