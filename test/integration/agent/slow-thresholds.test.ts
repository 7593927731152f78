/**
 * The slow-request thresholds from the environment (ROUTELENS_SLOW_*_MS) and
 * the slow-requests alert, on a real agent measuring a real Express app.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createAgent } from '../../../agent';
import type { Alert } from '../../../protocol';

const VARIABLES = ['ROUTELENS_SLOW_INFO_MS', 'ROUTELENS_SLOW_WARNING_MS', 'ROUTELENS_SLOW_CRITICAL_MS', 'ROUTELENS_SLOW_PER_MINUTE'] as const;

describe('slow-request thresholds from the environment, and the slow-requests alert', () => {
  afterEach(() => {
    for (const name of VARIABLES) delete process.env[name];
  });

  it('ROUTELENS_SLOW_*_MS set the slow log\'s levels, a bad one is ignored with a warning naming it; slow requests per minute fire an alert', async () => {
    process.env.ROUTELENS_SLOW_INFO_MS = '40';
    process.env.ROUTELENS_SLOW_WARNING_MS = 'soon';
    process.env.ROUTELENS_SLOW_CRITICAL_MS = '120';
    process.env.ROUTELENS_SLOW_PER_MINUTE = '3';
    const warnings: string[] = [];
    const agent = createAgent({ server: false, discoveryDir: false, cache: false, evaluateMs: 50, logger: { warn: (m) => warnings.push(m), error: () => {} } });
    let server: http.Server | undefined;
    try {
      assert.deepEqual(agent.snapshot().thresholds.slowMs, { info: 40, warning: 5000, critical: 120 });
      assert.equal(agent.snapshot().thresholds.slowPerMinute, 3);
      assert.ok(warnings.some((w) => w.includes('ROUTELENS_SLOW_WARNING_MS="soon" ignored')), warnings.join('\n'));
      const fired = new Promise<Alert>((resolve) => agent.on('alert', (a) => a.rule === 'slow-requests' && resolve(a)));
      const app = express();
      app.use(agent.middleware());
      app.get('/wait/:ms', (req, res) => void setTimeout(() => res.send('ok'), Number(req.params.ms)));
      server = await new Promise<http.Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const ms of [5, 60, 60, 150]) await (await fetch(`${base}/wait/${ms}`)).text();
      const slow = agent.snapshot().slowRequests;
      assert.deepEqual(slow.map((s) => s.severity), ['critical', 'info', 'info'], 'the 5 ms request is not slow; 150 ms is over the critical level');
      const alert = await fired;
      assert.deepEqual([alert.target, alert.value, alert.threshold], ['process', 3, 3]);
      assert.match(alert.message, /^3 slow requests \(≥ 40 ms\) in 1m ≥ 3$/);
    } finally {
      server?.closeAllConnections();
      server?.close();
      await agent.close();
    }
  });
});
