/**
 * `agent.stats(name)`: one endpoint's or one custom timing's figures, read
 * from code (as the in-memory perfMonitor.getStats of older tools did).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { type Agent, createAgent } from '../../../agent';

describe('agent.stats(name)', () => {
  let agent: Agent;
  let server: http.Server;

  before(async () => {
    agent = createAgent({ express, server: false, discoveryDir: false });
    const app = express();
    app.use(agent.middleware());
    app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));
    server = await new Promise<http.Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await agent.close();
  });

  it("returns a route's figures by endpoint id, and a custom timing's by its name", async () => {
    const port = (server.address() as AddressInfo).port;
    for (const id of [1, 2, 3]) await new Promise((resolve) => http.get({ host: '127.0.0.1', port, path: `/users/${id}` }, (res) => res.resume().on('end', resolve)));
    await agent.time('db.query', async () => new Promise((r) => setTimeout(r, 5)));
    agent.record('db.query', 20, { error: true });

    const route = agent.stats('GET /users/:id');
    assert.equal(route?.count, 3);
    assert.equal(route?.errors, 0);
    assert.equal(route?.windows['1m'].count, 3);

    const custom = agent.stats('db.query');
    assert.equal(custom?.kind, 'custom');
    assert.equal(custom?.count, 2);
    assert.equal(custom?.errors, 1);
    assert.ok(custom!.max >= 20);
  });

  it('returns undefined for a name nothing recorded', () => {
    assert.equal(agent.stats('GET /nope'), undefined);
    assert.equal(agent.stats('never.timed'), undefined);
  });
});
