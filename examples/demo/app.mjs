/**
 * The demo app: an ordinary Express 5 server with the RouteLens agent, showing
 * every kind of route RouteLens measures. Used by `npm run demo` and by the
 * integration and end-to-end tests.
 */
import express from 'express';
import { createAgent } from 'routelens/agent';
import { catalogRouter } from './routes/catalog.mjs';
import { getOrder, getOrderBatched } from './routes/orders.mjs';
import { orgsRouter } from './routes/orgs.mjs';
import { getUser, listUsers, search } from './routes/users.mjs';

/**
 * @param {{ agent?: import('routelens/agent').AgentOptions, logger?: boolean }} [options]
 * @returns {{ app: import('express').Express, agent: import('routelens/agent').Agent }}
 */
export function createDemoApp(options = {}) {
  const agent = createAgent({ name: 'routelens-demo', express, ...options.agent });
  const app = express();
  app.use(agent.middleware());
  app.use(express.json());

  // Fast, slow and flaky routes.
  app.get('/', (_req, res) => res.json({ ok: true, service: 'routelens-demo' }));
  app.get('/slow', async (_req, res) => {
    await sleep(150 + Math.random() * 600);
    res.json({ slow: true });
  });
  app.get('/flaky', (_req, res) => {
    if (Math.random() < 0.15) throw new Error('flaky failure');
    res.json({ ok: true });
  });

  // Path parameters, cache-aside through the agent's cache, a custom timing.
  app.get('/users', listUsers(agent));
  app.get('/users/:id', getUser(agent));
  app.get('/search', search(agent));

  // An order read item by item from another service (an N+1), and batched.
  app.get('/orders/:id', getOrder());
  app.get('/orders/:id/batched', getOrderBatched());

  // A mounted router with a response cache, and one whose prefix holds a parameter.
  app.use('/api/catalog', catalogRouter(agent));
  app.use('/orgs/:org', orgsRouter());

  // A rate-limited route: 5 logins per 10 s per client.
  app.post('/auth/login', agent.rateLimit({ name: 'login', windowMs: 10_000, max: 5 }), (req, res) => {
    res.json({ token: 'demo', user: String(req.body?.user ?? 'guest').slice(0, 40) });
  });

  app.use((err, _req, res, _next) => {
    res.status(500).json({ error: err.message });
  });
  return { app, agent };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
