/** User routes: handlers defined here and registered in app.mjs. */
import { sleep } from '../app.mjs';

/** DEMO_EXTRA_MS_USERS=N makes GET /users/:id N ms slower (a planted regression, for baseline comparisons). */
const EXTRA_MS = Math.min(Math.max(Number(process.env.DEMO_EXTRA_MS_USERS) || 0, 0), 10_000);

const NAMES = ['Ada', 'Grace', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Radia'];

/** Simulated database lookup: 20–80 ms. */
async function loadUser(id) {
  await sleep(20 + Math.random() * 60);
  return { id, name: NAMES[Number(id) % NAMES.length] ?? 'Unknown', createdAt: Date.now() };
}

export function getUser(agent) {
  return async (req, res) => {
    const id = req.params.id;
    if (!/^\d+$/.test(id)) return res.status(404).json({ error: 'no such user' });
    const user = await agent.cache.getOrSet(`users:${id}`, () => loadUser(id), { ttl: 30_000, tags: ['users'] });
    if (EXTRA_MS) await sleep(EXTRA_MS);
    res.json(user);
  };
}

export function listUsers(agent) {
  return async (_req, res) => {
    const users = await agent.cache.getOrSet('users:list', () => agent.time('db.listUsers', async () => {
      await sleep(40);
      return NAMES.map((name, id) => ({ id, name }));
    }), { ttl: 10_000, tags: ['users'] });
    res.json(users);
  };
}

export function search(agent) {
  return async (req, res) => {
    const q = String(req.query.q ?? '');
    const hits = await agent.time('db.search', async () => {
      await sleep(5 + q.length * 3);
      return NAMES.filter((n) => n.toLowerCase().includes(q.toLowerCase()));
    });
    res.json({ q, hits });
  };
}
