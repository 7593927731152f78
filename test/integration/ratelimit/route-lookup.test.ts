/**
 * A global limiter's refused requests are counted under the route they were headed for, found
 * through the route table's index: on an app with 5,000 routes a refusal tries a handful of route
 * matchers, not all of them (real agent, real Express 5, real HTTP).
 */
import assert from 'node:assert/strict';
import { type Agent, createAgent } from '../../../agent';
import { type FullRoute, matcherOf } from '../../../agent/express/model';
import type { RateLimitStats } from '../../../protocol';
import { type Served, hit, serve, waitFor } from './helpers';

/** A route's matcher that counts its calls. */
class CountingRegExp extends RegExp {
  static calls = 0;
  override test(s: string): boolean {
    CountingRegExp.calls++;
    return super.test(s);
  }
}

const ROUTES = 5000;

describe('rate limit route lookup on 5000 routes (Express 5)', () => {
  let agent: Agent;
  let served: Served;

  before(async () => {
     
    const express = require('express') as typeof import('express');
    agent = createAgent({ express, server: false, discoveryDir: false, cache: false });
    const app = express();
    app.use(agent.middleware());
    app.use(agent.rateLimit({ name: 'lookup', max: 1 }));
    for (let i = 0; i < ROUTES; i++) app.get(`/r${i}/:id`, (_req, res) => void res.send('ok'));
    served = await serve(app);
    // Every matcher of the module's route table (this app's and any earlier test's) counts its calls.
    const router = (typeof express.Router.prototype?.route === 'function' ? express.Router.prototype : express.Router) as unknown as Record<symbol, { order: FullRoute[] }>;
    for (const full of router[Symbol.for('routelens.express.state')]!.order) {
      const matcher = matcherOf(full);
      if (matcher) full.matcher = new CountingRegExp(matcher.source, matcher.flags);
    }
  });

  after(async () => {
    await served.close();
    await agent.close();
  });

  const limiter = (): RateLimitStats => agent.snapshot().rateLimits.find((l) => l.name === 'lookup')!;

  it('counts each refusal under its route while trying a handful of matchers, not one per route', async () => {
    assert.equal((await hit(`${served.url}/r0/first`)).status, 200);
    CountingRegExp.calls = 0;
    const refused = ['/r4999/1', '/r2500/2', '/r4999/3', '/r1/4'];
    for (const path of refused) assert.equal((await hit(served.url + path)).status, 429, path);
    await waitFor('the refusals counted', () => limiter().limited === refused.length);
    assert.deepEqual(
      limiter()
        .routes.filter((r) => r.limited > 0)
        .sort((a, b) => a.route.localeCompare(b.route)),
      [
        { route: 'GET /r1/:id', allowed: 0, limited: 1 },
        { route: 'GET /r2500/:id', allowed: 0, limited: 1 },
        { route: 'GET /r4999/:id', allowed: 0, limited: 2 },
      ],
    );
    // The limiter's stats and the endpoints both ask the table (each refused path at least once); a scan would try ~5000 matchers each time.
    assert.ok(CountingRegExp.calls > 0, 'the route table was consulted');
    assert.ok(CountingRegExp.calls < 20 * refused.length, `${CountingRegExp.calls} matchers tried for ${refused.length} refusals`);
  });
});
