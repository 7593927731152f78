/**
 * The demo under its own synthetic traffic looks like what it is: a healthy
 * app with one flaky route. No critical alert, health healthy throughout,
 * with the agent's default evaluation interval, thresholds and holds.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Alert, HealthReport } from '../../../protocol';

const root = join(__dirname, '../../..');
const RUN_MS = 20_000;
/** Three times the demo's default rate. */
const RATE = 60;

interface DemoAgent {
  on(event: 'alert', listener: (alert: Alert) => void): void;
  snapshot(): { health: HealthReport; alerts: Alert[]; endpoints: Array<{ id: string; count: number; errors: number }> };
  close(): Promise<void>;
}

describe('the demo under its own traffic', function () {
  this.timeout(RUN_MS + 30_000);

  before(function () {
    if (!existsSync(join(root, 'dist/agent/index.mjs'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  });

  it(`stays healthy with no critical alert for ${RUN_MS / 1000} s at ${RATE} requests/s`, async () => {
    const { createDemoApp } = (await import(join(root, 'examples/demo/app.mjs'))) as { createDemoApp(o: object): { app: { listen(port: number, host: string, cb: () => void): Server }; agent: DemoAgent } };
    const { startTraffic } = (await import(join(root, 'examples/demo/traffic.mjs'))) as { startTraffic(o: object): { stop(): void; done: Promise<{ sent: number }> } };
    const { app, agent } = createDemoApp({ agent: { server: false, discoveryDir: false } });
    const fired: Alert[] = [];
    agent.on('alert', (alert) => fired.push(alert));
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const health: HealthReport[] = [];
    const sampler = setInterval(() => health.push(agent.snapshot().health), 500);
    try {
      const traffic = startTraffic({ port: (server.address() as AddressInfo).port, ratePerSecond: RATE, durationMs: RUN_MS });
      const { sent } = await traffic.done;
      const snap = agent.snapshot();
      const flaky = snap.endpoints.find((e) => e.id === 'GET /flaky');
      assert.ok(sent > RUN_MS / 1000 * RATE * 0.5, `${sent} requests sent`);
      assert.ok(flaky !== undefined && flaky.errors > 0, 'the flaky route did fail: the traffic was real');
      assert.deepEqual(fired.filter((a) => a.severity === 'critical'), []);
      assert.deepEqual(snap.alerts.filter((a) => a.severity === 'critical' || a.rule === 'cache-hit-rate'), []);
      const worst = health.reduce((w, h) => (h.score < w.score ? h : w), { score: 100, status: 'healthy', reasons: [] } as HealthReport);
      assert.ok(health.length >= RUN_MS / 1000, `${health.length} samples`);
      assert.ok(worst.score >= 80 && worst.status === 'healthy', JSON.stringify(worst));
    } finally {
      clearInterval(sampler);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await agent.close();
    }
  });
});
