/** The routes of the app under test (bench/server.ts, bench/lib/ic-driver.ts): the same table in every variant. */
import type { Express } from 'express';

export function addRoutes(app: Express, express: typeof import('express')): void {
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id, name: `user ${req.params.id}`, roles: ['reader'] });
  });
  const api = express.Router();
  api.get('/orders', (_req, res) => {
    res.json([{ id: 1 }, { id: 2 }]);
  });
  api.get('/orders/:orderId', (req, res) => {
    res.json({ id: req.params.orderId, total: 42 });
  });
  app.use('/api', api);
  // Anything else falls through to Express's 404.
}

/** `n` more routes, `/r0/:id` … `/r<n-1>/:id` (the heap measurement's app: many endpoints). */
export function addManyRoutes(app: Express, n: number): void {
  for (let i = 0; i < n; i++) {
    app.get(`/r${i}/:id`, (req, res) => {
      res.json({ id: req.params.id });
    });
  }
}
