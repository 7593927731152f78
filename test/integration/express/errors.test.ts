/**
 * What counts as an endpoint error: what was sent. A 5xx, or a request that
 * failed with no response at all. A 404, 403, 401 or 400 passed to
 * `next(err)` is a 4xx, exactly as when `res.status()` sent it: visible in the
 * status classes, never in `errors`. Real Express 4 and 5 apps, a real agent.
 */
import assert from 'node:assert/strict';
import type { Express, NextFunction, Request, Response } from 'express';
import { type Agent, createAgent } from '../../../agent';
import { get, listen, type Running, versions } from './support';

type HttpError = Error & { status: number };
const httpError = (status: number): HttpError => Object.assign(new Error(`status ${status}`), { status });

for (const [name, express] of versions) {
  describe(`endpoint errors are server errors (${name})`, () => {
    let agent: Agent;
    let running: Running;

    before(async () => {
      const ex = express as () => Express;
      agent = createAgent({ express, server: false, discoveryDir: false });
      const app = ex();
      app.use(agent.middleware());
      for (const status of [400, 401, 403, 404]) {
        app.get(`/next/${status}`, (_req, _res, next) => next(httpError(status)));
        app.get(`/sent/${status}`, (_req, res) => void res.status(status).send('no'));
      }
      app.get('/throws', () => {
        throw new Error('boom');
      });
      app.get('/fails/:id', (_req, _res, next) => next(httpError(503)));
      // The app's own error handler, as express-generator's: it sends err.status.
      app.use((err: HttpError, _req: Request, res: Response, _next: NextFunction) => void res.status(err.status || 500).send(err.message));
      running = await listen(app);
    });
    after(async () => {
      await running.close();
      await agent.close();
    });

    it('a 4xx passed to next(err) counts like one sent with res.status(): not an error, in the 4xx class', async () => {
      for (const status of [400, 401, 403, 404]) {
        assert.equal((await get(running.port, `/next/${status}`)).status, status);
        assert.equal((await get(running.port, `/sent/${status}`)).status, status);
      }
      for (const status of [400, 401, 403, 404]) {
        for (const how of ['next', 'sent']) {
          const e = agent.stats(`GET /${how}/${status}`);
          assert.equal(e?.count, 1, `${how} ${status}`);
          assert.equal(e?.errors, 0, `${how} ${status}: not an error`);
          assert.equal(e?.statusCodes['4xx'], 1, `${how} ${status}: a 4xx`);
        }
      }
      assert.equal(agent.snapshot().system.errorRate, 0);
      assert.equal(agent.snapshot().alerts.length, 0);
    });

    it('a thrown error (500) and a 5xx passed to next(err) are errors', async () => {
      assert.equal((await get(running.port, '/throws')).status, 500);
      assert.equal((await get(running.port, '/fails/1')).status, 503);
      assert.equal(agent.stats('GET /throws')?.errors, 1);
      assert.equal(agent.stats('GET /fails/:id')?.errors, 1);
      assert.equal(agent.stats('GET /fails/:id')?.statusCodes['5xx'], 1);
    });
  });
}
