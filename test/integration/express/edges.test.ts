/**
 * Edge cases on Express 4 and 5: sub-apps, the request context during handlers, measuring
 * without route capture, huge values.
 */
import { strict as assert } from 'node:assert';
import type { Express, Request, Response } from 'express';
import { instrumentExpress } from '../../../agent/express/instrument';
import { MAX_URL, createMiddleware } from '../../../agent/express/middleware';
import { contextEntered, currentContext, requestContext, resetContextForTests } from '../../../agent/context';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { get, listen, memoryRecorder, pristineExpress, until, versions } from './support';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFunction = (...args: any[]) => unknown;
type ExpressFn = (() => Express) & { Router(opts?: object): import('express').Router };

for (const [name, expressModule] of versions) {
  const express = expressModule as ExpressFn;
  describe(`express edge cases (${name})`, () => {
    it('sub-apps: routes reported and recorded under the mount prefix, never bare', async () => {
      const rec = memoryRecorder();
      const diag = new Diagnostics(silentLogger);
      const table = instrumentExpress(express, { registerRoute: (d) => rec.registerRoute(d), diag })!;
      const app = express();
      app.use(createMiddleware(rec, { diag }));
      const admin = express();
      admin.get('/stats/:day', (_req: Request, res: Response) => void res.send('stats'));
      app.use('/admin/:tenant', admin);
      const server = await listen(app);
      try {
        const keys = rec.defs.map((d) => `${d.method} ${d.route}`);
        assert.ok(keys.includes('GET /admin/:tenant/stats/:day'), keys.join());
        assert.ok(!keys.includes('GET /stats/:day'), 'a mounted sub-app is not a root');
        await get(server.port, '/admin/acme/stats/monday');
        await until(() => rec.samples.length === 1);
        assert.equal(rec.samples[0]!.route, '/admin/:tenant/stats/:day');
        assert.equal(table.match('GET', '/admin/x/stats/y'), '/admin/:tenant/stats/:day');
      } finally {
        table.detach();
        await server.close();
      }
    });

    it('app.get stays both a settings read and a route registration', async () => {
      const rec = memoryRecorder();
      const diag = new Diagnostics(silentLogger);
      const table = instrumentExpress(express, { registerRoute: (d) => rec.registerRoute(d), diag })!;
      const app = express();
      app.set('answer', 42);
      assert.equal(app.get('answer'), 42);
      assert.equal(app.get('missing'), undefined);
      app.set('json spaces', 2); // read by res.json on every request through app.get
      app.get('/settings/:key', (req: Request, res: Response) => void res.json({ key: req.params.key }));
      const server = await listen(app);
      try {
        await until(() => rec.defs.some((d) => d.route === '/settings/:key'));
        const r = await get(server.port, '/settings/a');
        assert.equal(r.body, '{\n  "key": "a"\n}');
        assert.equal(app.get.length, (express as unknown as { application: { get: AnyFunction } }).application.get.length);
        assert.deepEqual([...diag.failures], []);
      } finally {
        table.detach();
        await server.close();
      }
    });

    it('the request context: entered once something reads it during a request, then carries the template through async work', async () => {
      resetContextForTests();
      const rec = memoryRecorder();
      const diag = new Diagnostics(silentLogger);
      const table = instrumentExpress(express, { registerRoute: () => undefined, diag })!;
      const app = express();
      app.use(createMiddleware(rec, { diag }));
      const seen: Array<string | undefined> = [];
      const r = express.Router();
      r.get('/widgets/:id', async (_req: Request, res: Response) => {
        const ctx = currentContext();
        seen.push(ctx?.route === undefined ? undefined : `${ctx.method} ${ctx.route}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push(requestContext.getStore()?.route);
        res.send('w');
      });
      app.use('/shop/:shop', r);
      const server = await listen(app);
      try {
        await get(server.port, '/shop/s1/widgets/9');
        await until(() => rec.samples.length === 1);
        // The first read finds no context (none entered yet: it costs every promise on Node 20) and switches it on.
        assert.deepEqual(seen, [undefined, undefined]);
        assert.equal(contextEntered(), true);
        seen.length = 0;
        await get(server.port, '/shop/s1/widgets/10');
        await until(() => rec.samples.length === 2);
        assert.deepEqual(seen, ['GET /shop/:shop/widgets/:id', '/shop/:shop/widgets/:id']);
        assert.equal(rec.samples[1]!.route, '/shop/:shop/widgets/:id');
      } finally {
        table.detach();
        await server.close();
      }
    });

    it('without route capture, still measures with Express’s own route path (never baseUrl values)', async () => {
      const plain = pristineExpress(name) as ExpressFn;
      const rec = memoryRecorder();
      const app = plain();
      app.use(createMiddleware(rec, { diag: new Diagnostics(silentLogger) }));
      app.get('/users/:id', (_req: Request, res: Response) => void res.send('u'));
      const r = plain.Router();
      r.get('/items/:id', (_req: Request, res: Response) => void res.send('i'));
      app.use('/api', r);
      const server = await listen(app);
      try {
        await get(server.port, '/users/1');
        await get(server.port, '/api/items/2');
        await get(server.port, '/zzz');
        await until(() => rec.samples.length === 3);
        assert.deepEqual(
          rec.samples.map((s) => s.route),
          ['/users/:id', '…/items/:id', undefined],
        );
      } finally {
        await server.close();
      }
    });

    it('huge URLs, request ids and paths are cut, never copied whole', async () => {
      const rec = memoryRecorder();
      const diag = new Diagnostics(silentLogger);
      const table = instrumentExpress(express, { registerRoute: (d) => rec.registerRoute(d), diag })!;
      const app = express();
      app.use(createMiddleware(rec, { diag }));
      const longPath = '/' + 'p'.repeat(5000);
      app.get(longPath, (_req: Request, res: Response) => void res.send('long'));
      const server = await listen(app);
      try {
        const def = rec.defs.find((d) => d.route.startsWith('/ppp'));
        assert.ok(def && def.route.length <= 512, 'template truncated');
        await get(server.port, '/x?' + 'q'.repeat(12 * 1024), { headers: { 'x-request-id': 'r'.repeat(2000) } });
        await get(server.port, longPath);
        await until(() => rec.samples.length === 2);
        const [big, long] = rec.samples;
        assert.ok(big!.url.length <= MAX_URL);
        assert.ok(big!.requestId.length < 100, 'an oversized incoming id is replaced');
        assert.ok(long!.route!.length <= 512);
        assert.equal(diag.failures.size, 0);
      } finally {
        table.detach();
        await server.close();
      }
    });
  });
}
