/**
 * Route cardinality on the request path: thousands of random `/users/<uuid>` and random 404
 * paths are recorded by template — one route for the users, `undefined` (one unmatched bucket)
 * for the rest — never by raw URL.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { instrumentExpress } from '../../../agent/express/instrument';
import { createMiddleware } from '../../../agent/express/middleware';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { buildApp } from '../../fixtures/express-apps/basic';
import { listen, memoryRecorder, until, versions } from './support';

const USERS = 1500;
const MISSES = 700;

for (const [name, express] of versions) {
  describe(`express cardinality (${name})`, () => {
    it(`${USERS} random /users/<uuid> and ${MISSES} random 404s give two route keys`, async function () {
      this.timeout(60_000);
      const rec = memoryRecorder();
      const diag = new Diagnostics(silentLogger);
      const table = instrumentExpress(express, { registerRoute: () => undefined, diag })!;
      const server = await listen(buildApp(express, { before: createMiddleware(rec, { diag }) }).app);
      const agent = new Agent({ keepAlive: true, maxSockets: 16 });
      try {
        const paths = [
          ...Array.from({ length: USERS }, () => `/users/${randomUUID()}`),
          ...Array.from({ length: MISSES }, () => `/${randomUUID().slice(0, 8)}/${randomUUID()}?q=${randomUUID()}`),
        ].sort(() => Math.random() - 0.5);
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < paths.length) {
            const path = paths[next++]!;
            await new Promise<void>((resolve, reject) => {
              httpRequest({ host: '127.0.0.1', port: server.port, path, agent }, (res) => {
                res.resume();
                res.on('end', resolve);
              })
                .on('error', reject)
                .end();
            });
          }
        };
        await Promise.all(Array.from({ length: 16 }, worker));
        await until(() => rec.samples.length === paths.length, 10_000);
        const byRoute = new Map<string | undefined, number>();
        for (const s of rec.samples) byRoute.set(s.route, (byRoute.get(s.route) ?? 0) + 1);
        assert.deepEqual([...byRoute.keys()].sort(), ['/users/:id', undefined].sort());
        assert.equal(byRoute.get('/users/:id'), USERS);
        assert.equal(byRoute.get(undefined), MISSES);
        assert.equal(new Set(rec.samples.map((s) => s.requestId)).size, paths.length, 'unique request ids');
        assert.equal(diag.failures.size, 0);
      } finally {
        agent.destroy();
        table.detach();
        await server.close();
      }
    });
  });
}
