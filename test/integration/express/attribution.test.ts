/**
 * Attribution that matches what Express did (Express 4 and 5): the method the router matched
 * (method-override), and requests answered by middleware counted under the deepest thing they
 * matched: a static mount, the route a request would have run, the mount it is inside, Express's
 * automatic OPTIONS answer under its route. What matches nothing stays unmatched.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RouteTable, instrumentExpress } from '../../../agent/express/instrument';
import { createMiddleware } from '../../../agent/express/middleware';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { buildAnswers } from '../../fixtures/express-apps/answers';
import { type MemoryRecorder, type Running, get, listen, markerLocation, memoryRecorder, until, versions } from './support';

const fixtureFile = join(__dirname, '../../fixtures/express-apps/answers.ts');
const fixtureSource = readFileSync(fixtureFile, 'utf8');

for (const [name, express] of versions) {
  describe(`express attribution (${name})`, () => {
    let rec: MemoryRecorder;
    let table: RouteTable;
    let server: Running;
    let diag: Diagnostics;

    before(async () => {
      rec = memoryRecorder();
      diag = new Diagnostics(silentLogger);
      table = instrumentExpress(express, { registerRoute: (d) => rec.registerRoute(d), diag })!;
      server = await listen(buildAnswers(express, [createMiddleware(rec, { diag })]));
    });
    after(async () => {
      table.detach();
      await server.close();
    });

    async function sample(path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<{ id: string; status: number }> {
      const before = rec.samples.length;
      await get(server.port, path, options);
      await until(() => rec.samples.length > before);
      const s = rec.samples[before]!;
      return { id: `${s.method} ${s.route ?? '(unmatched)'}`, status: s.status };
    }

    it('method-override: counted under the method the router matched, never a phantom POST route', async () => {
      assert.deepEqual(await sample('/user/1?_method=put', { method: 'POST' }), { id: 'PUT /user/:user_id', status: 200 });
      assert.ok(!rec.defs.some((d) => d.method === 'POST' && d.route === '/user/:user_id'));
      assert.deepEqual(await sample('/users/1'), { id: 'GET /users/:id', status: 200 }, 'requests without override are untouched');
    });

    it('a static mount is an endpoint of its own, located at its express.static line', async () => {
      const def = rec.def('GET /public/*');
      assert.ok(def, `registered: ${rec.defs.map((d) => `${d.method} ${d.route}`).join(', ')}`);
      assert.deepEqual(def.location, { file: fixtureFile, ...markerLocation(fixtureSource, 'static', 'use(') });
      assert.deepEqual(await sample('/public/stylesheets/style.css'), { id: 'GET /public/*', status: 200 });
      assert.deepEqual(await sample('/public/missing.css'), { id: 'GET (unmatched)', status: 404 }, 'a file it does not have is not its answer');
    });

    it("a middleware's answer counts under the route the request would have run, else under its mount", async () => {
      assert.deepEqual(await sample('/api/items/1'), { id: 'GET /api/items/:id', status: 401 });
      assert.deepEqual(await sample('/api/nothing'), { id: 'GET /api/*', status: 401 });
      const key = { 'x-api-key': 'k' };
      assert.deepEqual(await sample('/api/items/1', { headers: { ...key, 'x-limit': '1' } }), { id: 'GET /api/items/:id', status: 429 });
      assert.deepEqual(await sample('/api/other', { method: 'POST', headers: { ...key, 'x-limit': '1' } }), { id: 'POST /api/*', status: 429 });
      assert.deepEqual(await sample('/api/items/1', { headers: key }), { id: 'GET /api/items/:id', status: 200 });
      assert.deepEqual(await sample('/api/nothing', { headers: key }), { id: 'GET (unmatched)', status: 404 }, 'passed on and found nothing');
    });

    it("Express's automatic OPTIONS answer counts under the route; what matches nothing stays unmatched", async () => {
      const options = await sample('/users/1', { method: 'OPTIONS' });
      assert.deepEqual(options, { id: 'OPTIONS /users/:id', status: 200 });
      assert.deepEqual(await sample('/nowhere'), { id: 'GET (unmatched)', status: 404 });
      assert.deepEqual(await sample('/users/1', { method: 'DELETE' }), { id: 'DELETE (unmatched)', status: 404 });
      assert.equal(diag.failures.size, 0, `no internal failures: ${[...diag.failures.keys()].join()}`);
    });
  });
}
