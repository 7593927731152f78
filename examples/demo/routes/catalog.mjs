/** A router mounted at /api/catalog, with cached responses invalidated by writes. */
import express from 'express';

const products = new Map([
  ['1', { id: '1', name: 'Keyboard', price: 49 }],
  ['2', { id: '2', name: 'Mouse', price: 19 }],
  ['3', { id: '3', name: 'Monitor', price: 199 }],
]);

export function catalogRouter(agent) {
  const router = express.Router();
  const cached = agent.cacheResponses({ ttl: 15_000, namespace: 'http' });

  router.get('/products', cached, (_req, res) => {
    res.json([...products.values()]);
  });

  router.route('/products/:id')
    .get(cached, (req, res) => {
      const p = products.get(req.params.id);
      if (!p) return res.status(404).json({ error: 'not found' });
      res.json(p);
    })
    .put((req, res) => {
      const p = products.get(req.params.id);
      if (!p) return res.status(404).json({ error: 'not found' });
      Object.assign(p, { price: Number(req.body?.price ?? p.price) });
      res.json(p);
    });

  return router;
}
