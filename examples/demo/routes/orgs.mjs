/** A router mounted under a prefix that holds a parameter: /orgs/:org/members/:id. */
import express from 'express';

export function orgsRouter() {
  const router = express.Router({ mergeParams: true });
  router.get('/members', (req, res) => res.json({ org: req.params.org, members: 3 }));
  router.get('/members/:id', (req, res) => res.json({ org: req.params.org, id: req.params.id }));
  return router;
}
