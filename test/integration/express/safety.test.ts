/**
 * The host app comes first: with every RouteLens hook made to throw,
 * responses are byte-identical to a run without the agent, the app's error handler receives the
 * very same error objects, next() runs exactly once; aborted and streaming responses give
 * exactly one sample each and leave nothing behind.
 */
import { strict as assert } from 'node:assert';
import { request as httpRequest } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { instrumentExpress } from '../../../agent/express/instrument';
import { createMiddleware } from '../../../agent/express/middleware';
import { stateFor, trackedCount } from '../../../agent/express/request';
import type { RequestRecorder } from '../../../agent/internal';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { buildApp } from '../../fixtures/express-apps/basic';
import { type RawResponse, get, listen, memoryRecorder, pristineExpress, stableHeaders, until, versions } from './support';

const PATHS = ['/users/1', '/throw', '/next-error', '/api/items/1', '/orgs/a/teams/b/users/c', '/nope', '/any', '/v2/status', '/books/1'];

/** RouteLens keeps its per-request state off `req` and `res` (request.ts): no symbol of ours on them. */
function ourSymbols(o: object): string[] {
  return Object.getOwnPropertySymbols(o).map(String).filter((s) => s.includes('routelens'));
}

type Sabotage = 'none' | 'record' | 'registerRoute' | 'middleware' | 'layer';

/** Builds the fixture app and fetches every path: status, headers (minus Date) and body. */
async function run(express: unknown, options: { agent: boolean; sabotage?: Sabotage; asyncErrors: boolean }) {
  const diag = new Diagnostics(silentLogger);
  const rec = memoryRecorder();
  const recorder: RequestRecorder = {
    registerRoute: (d) => {
      if (options.sabotage === 'registerRoute') throw new Error('registerRoute sabotaged');
      rec.registerRoute(d);
    },
    record: (s) => {
      if (options.sabotage === 'record') throw new Error('record sabotaged');
      rec.record(s);
    },
  };
  const table = options.agent ? instrumentExpress(express, { registerRoute: (d) => recorder.registerRoute(d), diag }) : undefined;
  const nextCalls = new Map<string, number>();
  const sabotage: RequestHandler = (req, res, next) => {
    if (options.sabotage === 'middleware') {
      // The agent's abort watch on this connection (next in line) throws, once.
      const socket = req.socket as unknown as Record<string, unknown>;
      socket.once = function () {
        delete socket.once;
        throw new Error('socket.once sabotaged');
      };
    }
    if (options.sabotage === 'layer') {
      // Runs after the measuring middleware: route capture's mount marks on the request's state throw.
      Object.defineProperty(stateFor(req), 'mount', {
        configurable: true,
        get: () => undefined,
        set: () => {
          throw new Error('request mark sabotaged');
        },
      });
    }
    next();
  };
  const countNext: RequestHandler = (req: Request, _res: Response, next: NextFunction) => {
    nextCalls.set(req.url, (nextCalls.get(req.url) ?? 0) + 1);
    next();
  };
  const measure = createMiddleware(recorder, { diag });
  const before = !options.agent ? [countNext] : options.sabotage === 'layer' ? [measure, sabotage, countNext] : [sabotage, measure, countNext];
  const built = buildApp(express, { before, asyncErrors: options.asyncErrors });
  const server = await listen(built.app);
  const responses: RawResponse[] = [];
  try {
    for (const path of PATHS) {
      const r = await get(server.port, path);
      responses.push({ ...r, headers: stableHeaders(r.headers) });
    }
  } finally {
    if (options.agent && options.sabotage !== 'record' && options.sabotage !== 'middleware') await until(() => rec.samples.length === PATHS.length).catch(() => undefined);
    table?.detach();
    await server.close();
  }
  return { responses, built, nextCalls, rec, diag };
}

for (const [name, express] of versions) {
  describe(`express safety (${name})`, () => {
    const asyncErrors = name === 'express5';
    let baseline: RawResponse[];

    before(async () => {
      const pristine = pristineExpress(name) as { Router: { prototype: object } & Record<symbol, unknown> };
      assert.notEqual(pristine, express);
      const proto = (typeof (pristine.Router.prototype as { route?: unknown }).route === 'function' ? pristine.Router.prototype : pristine.Router) as Record<symbol, unknown>;
      assert.equal(proto[Symbol.for('routelens.express.state')], undefined, 'baseline Express is not instrumented');
      baseline = (await run(pristine, { agent: false, asyncErrors })).responses;
      assert.equal(baseline.length, PATHS.length);
    });

    for (const sabotage of ['none', 'record', 'registerRoute', 'middleware', 'layer'] as const) {
      it(`responses are byte-identical to a run without the agent (hooks sabotaged: ${sabotage})`, async () => {
        const { responses, built, nextCalls, rec, diag } = await run(express, { agent: true, sabotage, asyncErrors });
        assert.deepEqual(responses, baseline);
        // the app's error handler got the very objects the handlers threw / passed to next()
        assert.equal(built.errors.length, 2);
        assert.equal(built.errors[0], built.thrown[0]);
        assert.equal(built.errors[1], built.thrown[1]);
        // next() exactly once per request
        for (const path of PATHS) assert.equal(nextCalls.get(path), 1, `next() once for ${path}`);
        if (sabotage === 'none') {
          assert.equal(rec.samples.length, PATHS.length);
          assert.equal(diag.failures.size, 0);
          assert.deepEqual(
            rec.samples.map((s) => s.threw),
            PATHS.map((p) => p === '/throw' || p === '/next-error'),
          );
        } else {
          const code = { record: 'express.record', registerRoute: 'express.registerRoute', middleware: 'express.middleware', layer: 'express.layer' }[sabotage];
          assert.ok((diag.failures.get(code) ?? 0) > 0, `failure ${code} counted: ${[...diag.failures.keys()].join()}`);
        }
        if (sabotage === 'layer') {
          assert.equal(rec.samples.length, PATHS.length, 'still measured');
        }
        // Every measured request's sample is taken (its state no longer counted as held), even when recording throws.
        await until(() => trackedCount() === 0);
      });
    }

    it('req.route reads what Express set, also after the response (a handler that goes on after answering)', async () => {
      /** The route's path as the handler reads it right away, at the next immediate, after 20 ms, and after another request ended. */
      const reads = async (ex: unknown, agent: boolean): Promise<unknown[]> => {
        const diag = new Diagnostics(silentLogger);
        const rec = memoryRecorder();
        const table = agent ? instrumentExpress(ex, { registerRoute: (d) => rec.registerRoute(d), diag }) : undefined;
        const app = (ex as () => import('express').Express)();
        if (agent) app.use(createMiddleware(rec, { diag }));
        const path = (req: Request) => (req.route as { path?: unknown } | undefined)?.path;
        let late: Promise<unknown[]> | undefined;
        let otherEnded: () => void = () => undefined;
        const other = new Promise<void>((resolve) => (otherEnded = resolve));
        app.get('/users/:id', (req, res) => {
          res.end('ok');
          const at = (wait: (done: () => void) => void) => new Promise<unknown>((resolve) => wait(() => resolve(path(req))));
          late = Promise.all([path(req), at(setImmediate), at((done) => setTimeout(done, 20)), other.then(() => path(req))]);
        });
        app.get('/other', (_req, res) => {
          res.end('other');
          res.on('finish', () => setTimeout(otherEnded, 5));
        });
        const server = await listen(app);
        try {
          await get(server.port, '/users/1');
          await get(server.port, '/other');
          return await late!;
        } finally {
          table?.detach();
          await server.close();
        }
      };
      const without = await reads(pristineExpress(name), false);
      assert.deepEqual(without, ['/users/:id', '/users/:id', '/users/:id', '/users/:id']);
      assert.deepEqual(await reads(express, true), without);
      await until(() => trackedCount() === 0);
    });

    describe('aborted and streaming responses', () => {
      let rec: ReturnType<typeof memoryRecorder>;
      let server: Awaited<ReturnType<typeof listen>>;
      let table: ReturnType<typeof instrumentExpress>;
      const finished: Response[] = [];
      before(async () => {
        rec = memoryRecorder();
        const diag = new Diagnostics(silentLogger);
        table = instrumentExpress(express, { registerRoute: () => undefined, diag });
        const keep: RequestHandler = (_req, res, next) => {
          finished.push(res);
          next();
        };
        server = await listen(buildApp(express, { before: [createMiddleware(rec, { diag }), keep], asyncErrors }).app);
      });
      after(async () => {
        table?.detach();
        await server.close();
      });
      beforeEach(() => {
        rec.samples.length = 0;
        finished.length = 0;
      });

      function abortAfter(path: string, when: 'first-byte' | 'ms'): Promise<void> {
        return new Promise((resolve) => {
          const req = httpRequest({ host: '127.0.0.1', port: server.port, path, agent: false }, (res) => {
            res.once('data', () => {
              req.destroy();
              resolve();
            });
          });
          req.on('error', () => resolve());
          req.end();
          if (when === 'ms') setTimeout(() => req.destroy(), 100);
        });
      }

      it('client abort mid-response: exactly one sample, aborted, status kept', async () => {
        await abortAfter('/hang', 'first-byte');
        await until(() => rec.samples.length === 1);
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(rec.samples.length, 1);
        const s = rec.samples[0]!;
        assert.equal(s.aborted, true);
        assert.equal(s.status, 200);
        assert.equal(s.route, '/hang');
        assert.deepEqual([...ourSymbols(finished[0]!), ...ourSymbols(finished[0]!.req)], [], 'nothing of ours on the request or response');
        assert.equal(trackedCount(), 0, "the aborted request's state is not held");
      });

      it('client abort before any header: status 0, aborted', async () => {
        await abortAfter('/silent', 'ms');
        await until(() => rec.samples.length === 1);
        await new Promise((r) => setTimeout(r, 200));
        assert.equal(rec.samples.length, 1);
        assert.equal(rec.samples[0]!.aborted, true);
        assert.equal(rec.samples[0]!.status, 0);
        assert.equal(rec.samples[0]!.route, '/silent');
        assert.equal(trackedCount(), 0, "the aborted request's state is not held");
      });

      it('streaming response: one sample whose duration covers the stream', async () => {
        const r = await get(server.port, '/stream');
        assert.equal(r.body, 'abc');
        await until(() => rec.samples.length === 1);
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(rec.samples.length, 1);
        const s = rec.samples[0]!;
        assert.equal(s.aborted, false);
        assert.ok(s.duration >= 100, `duration ${s.duration} covers the 150 ms stream`);
        assert.deepEqual([...ourSymbols(finished[0]!), ...ourSymbols(finished[0]!.req)], []);
        assert.deepEqual(finished[0]!.listeners('close').map((f) => f.name).filter((n) => /^onResponseClose|routelens/i.test(n)), [], 'no listener of ours on the response');
        assert.equal(trackedCount(), 0);
      });

      it('the middleware mounted twice still records one sample per request', async () => {
        const diag = new Diagnostics(silentLogger);
        const twice = memoryRecorder();
        const mw = createMiddleware(twice, { diag });
        const app = (express as () => import('express').Express)();
        app.use(mw, mw);
        app.get('/x', (_req, res) => void res.send('x'));
        const s = await listen(app);
        try {
          await get(s.port, '/x');
          await until(() => twice.samples.length === 1);
          await new Promise((r) => setTimeout(r, 50));
          assert.equal(twice.samples.length, 1);
        } finally {
          await s.close();
        }
      });
    });
  });
}
