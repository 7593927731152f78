/**
 * The app's stack traces are its own (Express 4 and 5): an error thrown in a handler, on the app
 * or in a mounted router, has the same stack with route capture and the measuring middleware as
 * without RouteLens at all (node internals compared without their line numbers), and no frame
 * of RouteLens's. Dev error pages print exactly this stack.
 */
import { strict as assert } from 'node:assert';
import type { ErrorRequestHandler, Express, Request, RequestHandler, Response, Router } from 'express';
import { contextEntered, currentContext, resetContextForTests } from '../../../agent/context';
import { instrumentExpress } from '../../../agent/express/instrument';
import { createMiddleware } from '../../../agent/express/middleware';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { get, listen, memoryRecorder, pristineExpress, until, versions } from './support';

type ExpressModule = { (): Express; Router(): Router };

/** An app whose handlers throw; the error handler answers with the error's stack. */
function throwingApp(expressModule: unknown, before: RequestHandler[]): Express {
  const express = expressModule as ExpressModule;
  const app = express();
  for (const mw of before) app.use(mw);
  app.get('/boom/:id', function boom() {
    throw new Error('boom');
  });
  const nested = express.Router();
  nested.get('/deep/:id', function deep() {
    throw new Error('deep');
  });
  app.use('/r/:org', nested);
  // Reads the request context: once a request has, every later one runs inside its context.
  app.get('/ctx', (_req: Request, res: Response) => void res.send(currentContext()?.route ?? 'none'));
  const onError: ErrorRequestHandler = (err, _req, res, _next) => void res.status(500).type('text').send((err as Error).stack);
  app.use(onError);
  return app;
}

/** Stack frames without the message line; node internals without line and column. */
function frames(stack: string): string[] {
  return stack
    .split('\n')
    .slice(1)
    .map((l) => l.trim().replace(/\((node:[^:)]+)(?::\d+:\d+)?\)$/, '($1)'));
}

async function stacks(app: Express, options: { context?: boolean } = {}): Promise<string[][]> {
  const server = await listen(app);
  try {
    if (options.context) {
      resetContextForTests();
      await get(server.port, '/ctx');
      assert.equal(contextEntered(), true);
      assert.equal((await get(server.port, '/ctx')).body, '/ctx', 'the handler runs in its request context');
    }
    const out: string[][] = [];
    for (const path of ['/boom/1', '/r/acme/deep/2']) {
      const r = await get(server.port, path);
      assert.equal(r.status, 500);
      out.push(frames(r.body));
    }
    return out;
  } finally {
    await server.close();
  }
}

for (const [name, express] of versions) {
  describe(`express stack traces (${name})`, () => {
    it('an error thrown in a handler has the same stack frames with and without the agent, none of them ours', async () => {
      const without = await stacks(throwingApp(pristineExpress(name), []));
      const rec = memoryRecorder();
      const diag = new Diagnostics(silentLogger);
      const table = instrumentExpress(express, { registerRoute: (d) => rec.registerRoute(d), diag })!;
      try {
        const withAgent = await stacks(throwingApp(express, [createMiddleware(rec, { diag })]));
        await until(() => rec.samples.length === 2);
        assert.deepEqual(
          rec.samples.map((s) => s.route),
          ['/boom/:id', '/r/:org/deep/:id'],
          'still measured by template',
        );
        assert.deepEqual(withAgent, without);
        for (const f of withAgent.flat()) assert.ok(!/[\\/]agent[\\/]/.test(f), `a RouteLens frame: ${f}`);
        assert.ok(without[0]!.some((f) => f.includes('boom')), `the handler's frame is there: ${without[0]!.join('\n')}`);
        // With the request context entered (a cache call read it), still nothing of ours.
        assert.deepEqual(await stacks(throwingApp(express, [createMiddleware(rec, { diag })]), { context: true }), without);
      } finally {
        table.detach();
      }
    });
  });
}
