/**
 * The explicit API finds what was registered before the agent existed, and agrees with the
 * preload: an express-generator app (routes/*.js required before `createAgent()`) and an
 * ES-module app (routers imported, so built, first), Express 4 and 5, each run twice in a child
 * process, once with `createAgent()` as the README shows it and once with the preload. Same
 * endpoints, same locations (file and line of the registration call) and handler locations,
 * before any traffic; and requests to the discovered routes are measured by template.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { instrumentExpress } from '../../../agent/express/instrument';
import { createMiddleware } from '../../../agent/express/middleware';
import { Diagnostics, silentLogger } from '../../../agent/log';
import type { SourceLocation } from '../../../protocol';
import { type Bundle, bundleAgent, fixtures } from './child';
import { get, listen, markerLocation, memoryRecorder, pristineExpress, until, versions } from './support';

interface Endpoint {
  id: string;
  count: number;
  location?: SourceLocation;
  handlerLocation?: SourceLocation;
}

const generator = join(fixtures, 'generator');
const esm = join(fixtures, 'esm');

/** The line (1-based) of the first line of `file` containing `text`. */
function lineOf(file: string, text: string): number {
  const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
  assert.ok(line > 0, `${text} in ${file}`);
  return line;
}

/** Endpoints by id, with file and line only (columns of a handler-located call are not compared). */
function byId(endpoints: Endpoint[]): Map<string, { location?: string; handlerLocation?: string }> {
  const at = (l: SourceLocation | undefined): string | undefined => (l ? `${l.file}:${l.line}` : undefined);
  return new Map(endpoints.filter((e) => !e.id.includes('__routelens')).map((e) => [e.id, { location: at(e.location), handlerLocation: at(e.handlerLocation) }]));
}

describe('express: routes registered before createAgent() are discovered (as the preload sees them)', function () {
  this.timeout(90_000);
  let bundle: Bundle;

  before(async () => {
    bundle = await bundleAgent('routelens-discovery-');
  });
  after(() => bundle.close());

  async function endpoints(port: number): Promise<Endpoint[]> {
    // Locations are looked up off the request path, right after registration.
    await new Promise((r) => setTimeout(r, 200));
    return JSON.parse((await get(port, '/__routelens')).body) as Endpoint[];
  }

  /** Runs `app` with the explicit API and with the preload; returns both endpoint lists, before any traffic. */
  async function both(cwd: string, app: string, preloadArgs: string[], expressName: string): Promise<{ explicit: Endpoint[]; preload: Endpoint[]; port: number }> {
    const env = { RL_EXPRESS: expressName };
    const a = await bundle.start([], app, { ...env, RL_AGENT: bundle.agent.index }, cwd);
    const b = await bundle.start(preloadArgs, app, env, cwd);
    try {
      return { explicit: await endpoints(a.port), preload: await endpoints(b.port), port: a.port };
    } finally {
      b.child.kill('SIGTERM'); // the explicit one serves the test's requests; bundle.close() ends it
    }
  }

  for (const expressName of ['express4', 'express']) {
    const label = expressName === 'express' ? 'express5' : expressName;

    it(`express-generator layout (${label}): same endpoints, locations and handler locations as the preload, then measured by template`, async () => {
      const { explicit, preload, port } = await both(generator, 'app.js', ['--require', bundle.agent.register], expressName);
      const users = join(generator, 'routes/users.js');
      const index = join(generator, 'routes/index.js');
      const expected: Record<string, { location?: string; handlerLocation?: string }> = {
        'GET /': { location: `${index}:${lineOf(index, "router.get('/', function")}` },
        'POST /contact': { location: `${index}:${lineOf(index, "router.post('/contact'")}` },
        'GET /users': { location: `${users}:${lineOf(users, "router.get('/', function")}` },
        'GET /users/list': { location: `${users}:${lineOf(users, "router.get('/list'")}`, handlerLocation: `${join(generator, 'handlers.js')}:${lineOf(join(generator, 'handlers.js'), 'function listUsers')}` },
        'GET /users/:id': { location: `${users}:${lineOf(users, '.get(function')}` },
        'DELETE /users/:id': { location: `${users}:${lineOf(users, '.delete(')}` },
        'ALL /users/any/:x': { location: `${users}:${lineOf(users, "router.all('/any/:x'")}` },
        'GET /users/:id/posts/:postId': { location: `${users}:${lineOf(users, "posts.get('/:postId'")}` },
        'GET /*': { location: `${join(generator, 'app.js')}:${lineOf(join(generator, 'app.js'), 'express.static(')}` },
      };
      const seen = byId(explicit);
      assert.deepEqual(seen, byId(preload), 'the explicit API and the preload agree');
      for (const [id, where] of Object.entries(expected)) assert.deepEqual(seen.get(id), { handlerLocation: undefined, ...where }, id);
      for (const path of ['/', '/users/7', '/users/7', '/users/7/posts/3', '/stylesheets/style.css', '/nope']) await get(port, path);
      await get(port, '/users/7', { method: 'DELETE' });
      const counts = new Map((await endpoints(port)).map((e) => [e.id, e.count]));
      assert.equal(counts.get('GET /'), 1);
      assert.equal(counts.get('GET /users/:id'), 2);
      assert.equal(counts.get('DELETE /users/:id'), 1);
      assert.equal(counts.get('GET /users/:id/posts/:postId'), 1);
      assert.equal(counts.get('GET /*'), 1, 'the static file counts under the static mount');
      assert.equal(counts.get('GET (unmatched)'), 1, 'only /nope is unmatched');
    });

    it(`ES-module app, routers imported before the agent (${label}): same as the preload, then measured by template`, async () => {
      const { explicit, preload, port } = await both(esm, 'app.mjs', ['--import', bundle.agent.registerEsm], expressName);
      const items = join(esm, 'routes/items.mjs');
      const admin = join(esm, 'routes/admin.mjs');
      const seen = byId(explicit);
      assert.deepEqual(seen, byId(preload), 'the explicit API and the preload agree');
      const expected: Record<string, { location?: string; handlerLocation?: string }> = {
        'GET /items': { location: `${items}:${lineOf(items, "items.get('/',")}` },
        'GET /items/:itemId': { location: `${items}:${lineOf(items, "items.get('/:itemId'")}` },
        'POST /items': { location: `${items}:${lineOf(items, "items.post('/'")}`, handlerLocation: `${items}:${lineOf(items, 'function handleCreate')}` },
        'GET /admin/stats': { location: `${admin}:${lineOf(admin, "admin.get('/stats'")}` },
        'GET /admin/items/:itemId': { location: `${items}:${lineOf(items, "items.get('/:itemId'")}` },
        'GET /health': { location: `${join(esm, 'app.mjs')}:${lineOf(join(esm, 'app.mjs'), "app.get('/health'")}` },
      };
      for (const [id, where] of Object.entries(expected)) assert.deepEqual(seen.get(id), { handlerLocation: undefined, ...where }, id);
      await get(port, '/items/4');
      await get(port, '/admin/items/5');
      const counts = new Map((await endpoints(port)).map((e) => [e.id, e.count]));
      assert.equal(counts.get('GET /items/:itemId'), 1);
      assert.equal(counts.get('GET /admin/items/:itemId'), 1);
    });
  }
});

for (const [name] of versions) {
  describe(`express: an app created before the agent is found by its first request (${name})`, () => {
    it('app.use(middleware) on an older app is a layer; its first request makes its routes known, with locations, and is measured by template', async () => {
      const express = pristineExpress(name) as typeof import('express');
      // Built before the agent: the app (its `use` and `get` are Express's own from now on) and a router.
      const app = express();
      const users = express.Router();
      users.get('/:id', (_req, res) => void res.send('user')); // @loc early-user

      const rec = memoryRecorder();
      const diag = new Diagnostics(silentLogger);
      const table = instrumentExpress(express, { registerRoute: (d) => rec.registerRoute(d), diag })!;
      app.use(createMiddleware(rec, { diag }));
      app.use('/users', users);
      app.get('/health', (_req, res) => void res.send('ok')); // @loc early-health
      const server = await listen(app);
      try {
        assert.equal(rec.defs.length, 0, 'which app it is only shows with a request');
        await get(server.port, '/users/1');
        await until(() => rec.samples.length === 1);
        assert.equal(rec.samples[0]!.route, '/users/:id', 'the first request already has its template');
        await until(() => rec.def('GET /health')?.location !== undefined && rec.def('GET /users/:id')?.location !== undefined);
        const source = readFileSync(__filename, 'utf8');
        for (const [key, marker] of [['GET /users/:id', 'early-user'], ['GET /health', 'early-health']] as const) {
          assert.deepEqual(rec.def(key)?.location && { file: rec.def(key)!.location!.file, line: rec.def(key)!.location!.line }, { file: __filename, line: markerLocation(source, marker, 'get(').line }, key);
        }
        assert.equal(diag.failures.size, 0, [...diag.failures.keys()].join());
      } finally {
        table.detach();
        await server.close();
      }
    });
  });
}
