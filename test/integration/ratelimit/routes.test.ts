/**
 * A global limiter's per-route stats on a real agent (route capture, the
 * measuring middleware) and real Express 4 and 5 apps: the requests it lets
 * through are counted under the endpoint that answered them, read when the
 * response finishes, without matching the route table; refused requests are
 * matched against the table, once per path.
 */
import assert from 'node:assert/strict';
import { type Agent, createAgent } from '../../../agent';
import type { RateLimitStats } from '../../../protocol';
import { type Served, hit, serve, waitFor } from './helpers';

const variants: Array<[string, () => typeof import('express')]> = [
   
  ['Express 4', () => require('express4')],
   
  ['Express 5', () => require('express')],
];

for (const [version, load] of variants) {
  describe(`rate limit routes on a real agent (${version})`, () => {
    let agent: Agent;
    let served: Served;
    let tableMatches: string[];
    let release: () => void;

    beforeEach(async () => {
      const express = load();
      agent = createAgent({ express, server: false, discoveryDir: false, cache: false });
      // Every consultation of the route table, seen from the agent's side.
      const spied = agent as unknown as { matchRoute(method: string, path: string): string | undefined };
      const match = spied.matchRoute.bind(agent);
      tableMatches = [];
      spied.matchRoute = (method, path) => {
        tableMatches.push(`${method} ${path}`);
        return match(method, path);
      };
      const app = express();
      app.use(agent.middleware());
      app.use(agent.rateLimit({ name: 'global', max: 8 }));
      app.get('/users/:id', (req, res) => {
        res.json({ id: req.params.id });
      });
      const orgs = express.Router();
      orgs.get('/seats/:seat', (_req, res) => {
        setTimeout(() => res.send('member'), 5);
      });
      app.use('/orgs/:org', orgs);
      const held = new Promise<void>((resolve) => (release = resolve));
      app.get('/held/:id', (_req, res) => {
        void held.then(() => res.send('released'));
      });
      app.post('/items', (_req, res) => {
        res.status(201).send('made');
      });
      served = await serve(app);
    });

    afterEach(async () => {
      await served.close();
      await agent.close();
    });

    const limiter = (): RateLimitStats => agent.snapshot().rateLimits.find((l) => l.name === 'global')!;

    // Paths no other test registers: a refused request is matched against every app's routes in the process.
    it('counts allowed requests under the endpoint that answered them, without the route table; refused ones once per path', async () => {
      const allowed = ['/users/1', '/users/2', '/orgs/acme/seats/7', '/users/3', '/orgs/beta/seats/8', '/nowhere', '/users/4'];
      for (const path of allowed) assert.notEqual((await hit(served.url + path)).status, 429, path);
      assert.equal((await fetch(served.url + '/items', { method: 'POST' })).status, 201);
      for (const path of ['/users/5', '/users/5', '/orgs/x/seats/1']) assert.equal((await hit(served.url + path)).status, 429, path);

      await waitFor('every response counted', () => {
        const stats = limiter();
        return stats.routes.reduce((sum, r) => sum + r.allowed, 0) === 8 && stats.limited === 3;
      });
      assert.deepEqual(limiter().routes, [
        { route: 'GET /users/:id', allowed: 4, limited: 2 },
        { route: 'GET /orgs/:org/seats/:seat', allowed: 2, limited: 1 },
        { route: 'GET (unmatched)', allowed: 1, limited: 0 },
        { route: 'POST /items', allowed: 1, limited: 0 },
      ]);
      // The route table is read for requests no route answered: the 404 and two refused paths (the repeated one is remembered).
      assert.deepEqual(tableMatches.sort(), ['GET /nowhere', 'GET /orgs/x/seats/1', 'GET /users/5']);

      // The limiter's stats and the endpoints agree: a refused request counts under the route it was
      // headed for (the deepest match), as the limiter counts it; only the 404 stays unmatched.
      const endpoints = new Map(agent.snapshot().endpoints.map((e) => [e.id, e.count]));
      for (const route of limiter().routes) {
        if (route.route.endsWith('(unmatched)')) continue;
        assert.equal(endpoints.get(route.route), route.allowed + route.limited, route.route);
      }
      assert.equal(endpoints.get('GET (unmatched)'), 1, 'only the 404');
    });

    it('a request in flight counts as allowed at once, and under its route once its response finishes', async () => {
      const pending = hit(served.url + '/held/1');
      await waitFor('the request let through', () => limiter().allowed === 1);
      assert.deepEqual(limiter().routes, [], 'the route is not known before the router ran');
      release();
      assert.equal((await pending).body, 'released');
      await waitFor('the route counted', () => limiter().routes.length === 1);
      assert.deepEqual(limiter().routes, [{ route: 'GET /held/:id', allowed: 1, limited: 0 }]);
      assert.deepEqual(tableMatches, []);
    });
  });
}
