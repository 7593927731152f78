/**
 * `app.use(agent.middleware())` alone on an app is measured at the app's entry (a wrapped
 * `app.handle`), not as a layer of its router: the router then has no extra layer to run per
 * request. Anything else (a path, a router, several handlers at once) stays a layer. Both give
 * the same samples, and the host app sees the same responses either way.
 */
import { strict as assert } from 'node:assert';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Express, RequestHandler, Router } from 'express';
import { instrumentExpress } from '../../../agent/express/instrument';
import { createMiddleware } from '../../../agent/express/middleware';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { buildApp } from '../../fixtures/express-apps/basic';
import { get, listen, memoryRecorder, pristineExpress, stableHeaders, until, versions } from './support';

type ExpressModule = { (): Express; Router(): Router };

/** The number of layers in an app's router (Express 4: app._router, Express 5: app.router). */
function layers(app: Express): number {
  const a = app as unknown as { _router?: { stack: unknown[] }; router?: { stack: unknown[] } };
  return (a._router ?? a.router)?.stack.length ?? 0;
}

for (const [name, expressModule] of versions) {
  const express = expressModule as ExpressModule;
  describe(`express: measured at the app's entry (${name})`, () => {
    let table: ReturnType<typeof instrumentExpress>;
    const diag = new Diagnostics(silentLogger);
    before(() => {
      table = instrumentExpress(express, { registerRoute: () => undefined, diag });
    });
    after(() => table?.detach());

    it('app.use(middleware) adds no layer, and every request is measured with its route and status', async () => {
      const rec = memoryRecorder();
      const app = express();
      app.get('/first', (_req, res) => void res.send('first'));
      const before = layers(app);
      assert.equal(app.use(createMiddleware(rec, { diag })), app, 'app.use still returns the app');
      assert.equal(layers(app), before, 'no layer added');
      app.get('/users/:id', (_req, res) => void res.json({ ok: true }));
      const s = await listen(app);
      try {
        assert.equal((await get(s.port, '/users/7')).status, 200);
        assert.equal((await get(s.port, '/first')).status, 200);
        assert.equal((await get(s.port, '/missing')).status, 404);
        await until(() => rec.samples.length === 3);
        assert.deepEqual(
          rec.samples.map((x) => [x.method, x.route, x.status, x.url]),
          [
            ['GET', '/users/:id', 200, '/users/7'],
            ['GET', '/first', 200, '/first'],
            ['GET', undefined, 404, '/missing'],
          ],
        );
      } finally {
        await s.close();
      }
    });

    it('measures from the app receiving the request, wherever app.use(middleware) stands', async () => {
      const rec = memoryRecorder();
      const app = express();
      app.use((_req, _res, next) => void setTimeout(next, 60));
      app.use(createMiddleware(rec, { diag }));
      app.get('/x', (_req, res) => void res.send('x'));
      const s = await listen(app);
      try {
        await get(s.port, '/x');
        await until(() => rec.samples.length === 1);
        assert.ok(rec.samples[0]!.duration >= 55, `duration ${rec.samples[0]!.duration} ms covers the earlier middleware's 60 ms`);
      } finally {
        await s.close();
      }
    });

    it('mounted twice on one app: wrapped once, one sample per request', async () => {
      const rec = memoryRecorder();
      const mw = createMiddleware(rec, { diag });
      const app = express();
      const handleOf = () => (app as unknown as { handle: unknown }).handle;
      app.use(mw);
      const handle = handleOf();
      app.use(mw);
      assert.equal(handleOf(), handle);
      app.get('/x', (_req, res) => void res.send('x'));
      const s = await listen(app);
      try {
        await get(s.port, '/x');
        await until(() => rec.samples.length === 1);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(rec.samples.length, 1);
      } finally {
        await s.close();
      }
    });

    it('with a path, on a router, or among other handlers: a layer, and still measured', async () => {
      const rec = memoryRecorder();
      const mw = createMiddleware(rec, { diag });
      const noop: RequestHandler = (_req, _res, next) => next();
      const app = express();
      app.get('/warm', (_req, res) => void res.send('w'));
      const count = layers(app);
      app.use('/api', mw);
      assert.equal(layers(app), count + 1, 'with a path');
      const router = express.Router();
      router.use(mw);
      assert.equal(router.stack.length, 1, 'on a router');
      router.get('/r', (_req, res) => void res.send('r'));
      app.use('/router', router);
      const other = express();
      other.use(mw, noop);
      assert.ok(layers(other) >= 2, 'among other handlers');
      other.get('/o', (_req, res) => void res.send('o'));
      app.use('/other', other);
      app.get('/api/x', (_req, res) => void res.send('x'));
      const s = await listen(app);
      try {
        for (const path of ['/api/x', '/router/r', '/other/o']) assert.equal((await get(s.port, path)).status, 200, path);
        await until(() => rec.samples.length === 3);
        assert.deepEqual(
          rec.samples.map((x) => x.route),
          ['/api/x', '/router/r', '/other/o'],
        );
      } finally {
        await s.close();
      }
    });

    it('responses are byte-identical to a run without the agent, with a failure of ours at the entry counted and the app run once', async () => {
      const pristine = pristineExpress(name);
      const paths = ['/users/1', '/throw', '/next-error', '/api/items/1', '/orgs/a/teams/b/users/c', '/nope', '/books/1'];
      const fetchAll = async (built: ReturnType<typeof buildApp>, sabotage: boolean) => {
        const s = await listen((req: IncomingMessage, res: ServerResponse) => {
          if (sabotage) {
            // The measuring code's abort watch on this connection throws, once per request.
            const socket = req.socket as unknown as Record<string, unknown>;
            socket.once = function () {
              delete socket.once;
              throw new Error('socket.once sabotaged');
            };
          }
          built.app(req as never, res as never);
        });
        try {
          const out = [];
          for (const p of paths) {
            const r = await get(s.port, p);
            out.push({ ...r, headers: stableHeaders(r.headers) });
          }
          return out;
        } finally {
          await s.close();
        }
      };
      const asyncErrors = name === 'express5';
      const baseline = await fetchAll(buildApp(pristine, { asyncErrors }), false);

      const rec = memoryRecorder();
      const measured = buildApp(express, { before: createMiddleware(rec, { diag }), asyncErrors });
      assert.deepEqual(await fetchAll(measured, false), baseline);
      await until(() => rec.samples.length === paths.length);
      assert.deepEqual(
        rec.samples.map((x) => x.threw),
        paths.map((p) => p === '/throw' || p === '/next-error'),
      );

      const failing = new Diagnostics(silentLogger);
      const broken = memoryRecorder();
      const sabotaged = buildApp(express, { before: createMiddleware(broken, { diag: failing }), asyncErrors });
      assert.deepEqual(await fetchAll(sabotaged, true), baseline);
      assert.equal(failing.failures.get('express.middleware'), paths.length);
      assert.equal(sabotaged.errors.length, 2, 'the error handler ran once per failing request');
      assert.equal(broken.samples.length, 0);
    });
  });
}
