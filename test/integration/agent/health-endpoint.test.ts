/**
 * `agent.healthHandler()` on real Express 4 and 5 apps: what a load balancer
 * reads, driven by the agent's real alerts.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Agent, createAgent } from '../../../agent';

const variants: Array<[string, () => typeof import('express')]> = [
  ['Express 4', () => require('express4') as typeof import('express')],
  ['Express 5', () => require('express') as typeof import('express')],
];

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string; type?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

for (const [name, load] of variants) {
  describe(`agent.healthHandler() on ${name}`, function () {
    this.timeout(30_000);
    let agent: Agent;
    let server: http.Server;
    let port: number;

    before(async () => {
      const express = load();
      agent = createAgent({ express, server: false, discoveryDir: false, evaluateMs: 50, thresholds: { p95Ms: 1, errorRate: 0.01 } });
      const app = express();
      app.use(agent.middleware());
      app.get('/health', agent.healthHandler());
      app.get('/secret/:token/fail', (_req, _res) => {
        const until = Date.now() + 4;
        while (Date.now() < until);
        throw new Error('boom');
      });
      app.get('/other/fail', (_req, res) => void setTimeout(() => res.status(500).send('no'), 4));
      app.use((_err: unknown, _req: unknown, res: { status(n: number): { send(b: string): void } }, _next: unknown) => res.status(500).send('failed'));
      server = await new Promise<http.Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      port = (server.address() as AddressInfo).port;
    });
    after(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await agent.close();
    });

    it('answers 200 healthy with score 100 and no reasons while nothing fires; HEAD has no body', async () => {
      const r = await get(port, '/health');
      assert.equal(r.status, 200);
      assert.match(r.type ?? '', /^application\/json/);
      assert.deepEqual(JSON.parse(r.body), { status: 'healthy', score: 100, reasons: [] });
      const head = await get(port, '/health', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
    });

    it('answers 503 once real alerts make the agent unhealthy, naming rule codes only (no route, no message)', async () => {
      let last: { status: number; body: string } | undefined;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        for (let i = 0; i < 10; i++) {
          await get(port, `/secret/tok${i}/fail`);
          await get(port, '/other/fail');
        }
        last = await get(port, '/health');
        if (last.status === 503) break;
      }
      assert.ok(last);
      assert.equal(last.status, 503, last.body);
      const body = JSON.parse(last.body) as { status: string; score: number; reasons: string[] };
      assert.equal(body.status, 'unhealthy');
      assert.ok(body.score < 50);
      assert.ok(body.reasons.includes('route-p95'), last.body);
      const rules = ['route-p95', 'error-rate', 'heap', 'event-loop-delay', 'cache-hit-rate', 'latency-anomaly', 'rate-limited', 'redis', 'route-avg', 'slow-requests'];
      assert.ok(body.reasons.every((r) => rules.includes(r)), last.body);
      assert.deepEqual(Object.keys(body).sort(), ['reasons', 'score', 'status']);
      assert.doesNotMatch(last.body, /secret|other|fail|boom|ms/);
    });
  });
}

describe('agent.healthHandler() options', () => {
  it('rejects a status outside 200..599 with ROUTELENS_ERR_INVALID_OPTION naming the option', () => {
    const agent = createAgent({ server: false, discoveryDir: false });
    try {
      assert.throws(() => agent.healthHandler({ unhealthyStatus: 99 }), (err: Error & { code?: string }) => err.code === 'ROUTELENS_ERR_INVALID_OPTION' && /unhealthyStatus/.test(err.message));
    } finally {
      void agent.close();
    }
  });
});
