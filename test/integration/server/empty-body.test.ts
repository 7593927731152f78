/**
 * `POST /v1/reset` with no body at all (as `curl -X POST` sends it) is a valid
 * "reset everything", with or without a Content-Type; a body still needs one.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { type Agent, createAgent } from '../../../agent';

function request(port: number, path: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('POST /v1/reset with an empty body', () => {
  let agent: Agent;
  let app: http.Server;
  let auth: Record<string, string>;
  let agentPort: number;

  before(async () => {
    agent = createAgent({ discoveryDir: false, express });
    const e = express();
    e.use(agent.middleware());
    e.get('/a', (_req, res) => res.send('a'));
    app = await new Promise<http.Server>((resolve) => {
      const s = e.listen(0, '127.0.0.1', () => resolve(s));
    });
    const info = await agent.ready();
    assert.ok(info);
    agentPort = info.port;
    auth = { Authorization: `Bearer ${info.token}` };
  });
  after(async () => {
    app.closeAllConnections();
    await new Promise((r) => app.close(r));
    await agent.close();
  });

  const count = () => agent.snapshot().endpoints.find((x) => x.id === 'GET /a')?.count ?? 0;
  const hit = () => request((app.address() as AddressInfo).port, '/a', 'GET', {});

  it('resets everything when the request has no body and no Content-Type', async () => {
    await hit();
    await hit();
    assert.equal(count(), 2);
    const r = await request(agentPort, '/v1/reset', 'POST', auth);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { reset: 1 });
    assert.equal(count(), 0);
  });

  it('still refuses a body without Content-Type: application/json', async () => {
    await hit();
    const r = await request(agentPort, '/v1/reset', 'POST', auth, '{}');
    assert.equal(r.status, 415);
    assert.equal(count(), 1);
  });
});
