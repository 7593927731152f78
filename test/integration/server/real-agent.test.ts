/** The local server behind the real agent (createAgent) and a real Express 5 app. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { createAgent } from '../../../agent';
import { type AgentMessage, asDiscoveryRecord } from '../../../protocol';
import { Client, http, isType } from './helpers';

describe('server with the real agent', () => {
  it('streams a snapshot and the deltas of real requests; HTTP and /metrics agree', async function () {
    this.timeout(20_000);
    const dir = mkdtempSync(join(tmpdir(), 'routelens-real-'));
    const agent = createAgent({ express, discoveryDir: dir, batchMs: 50, cache: false } as Parameters<typeof createAgent>[0]);
    const app = express();
    app.use(agent.middleware());
    app.get('/users/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    const appServer: Server = app.listen(0, '127.0.0.1');
    try {
      await new Promise((r) => appServer.once('listening', r));
      const appPort = (appServer.address() as AddressInfo).port;
      const ready = await agent.ready();
      assert.ok(ready, 'the server started');
      const record = asDiscoveryRecord(JSON.parse(readFileSync(join(dir, `agent-${process.pid}.json`), 'utf8')));
      assert.equal(record?.port, ready.port);
      const auth = { Authorization: `Bearer ${record!.token}` };
      const c = new Client(`ws://127.0.0.1:${ready.port}/v1/stream`, auth);
      await c.next(isType('snapshot'));
      for (let i = 0; i < 5; i++) await fetch(`http://127.0.0.1:${appPort}/users/${i}`).then((r) => r.text());
      await c.next((m): m is Extract<AgentMessage, { type: 'delta' }> => m.type === 'delta' && (m.delta.endpoints ?? []).some((e) => e.id === 'GET /users/:id' && e.count === 5), 10_000);
      const list = (await http(ready.port, 'GET', '/v1/endpoints?sort=most-requested', auth)).json();
      assert.deepEqual(list.endpoints.map((e: { id: string; count: number }) => [e.id, e.count]), [['GET /users/:id', 5]]);
      const metrics = (await http(ready.port, 'GET', '/metrics', auth)).body;
      assert.match(metrics, /^routelens_http_requests_total\{method="GET",route="\/users\/:id"\} 5$/m);
      const reply = await c.command(1, 'reset', {});
      assert.equal(reply.ok, true);
      await agent.close();
      assert.equal(await c.closed, 1001);
    } finally {
      await agent.close();
      appServer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
