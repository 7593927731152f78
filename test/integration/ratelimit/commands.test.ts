/**
 * What one request costs Redis: the commands a limiter sends, as a private
 * redis-server's MONITOR reports them (the commands the script runs inside
 * Redis are reported with source "lua" and left out). One EVALSHA per
 * request, allowed or refused, and nothing else (no GET, TTL or EXPIRE beside
 * it, no second round trip).
 */
import assert from 'node:assert/strict';
import express from 'express';
import type { Request } from 'express';
import { ALGORITHMS } from '../../../agent/ratelimit/algorithms';
import { createRateLimits } from '../../../agent/ratelimit';
import { hits, recordingDiag, redisSuite, serve, sleep, waitFor } from './helpers';


describe('ratelimit Redis commands per request (real redis-server)', function () {
  this.timeout(60_000);
  const suite = redisSuite();

  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: each request, allowed or refused, sends exactly one EVALSHA and no other command`, async () => {
      const name = `commands-${algorithm}`;
      const rl = createRateLimits({ diag: recordingDiag().diag, redis: suite.redis.url });
      suite.limits.push(rl);
      const app = express();
      // A generous budget: a loaded machine must not turn a slow answer into a store error (and a count in memory).
      app.use(rl.create({ name, algorithm, max: 5, timeout: 5000, key: (req: Request) => String(req.headers['x-k'] ?? 'anon') }));
      app.get('/', (_req, res) => void res.send('ok'));
      const served = await serve(app);
      suite.served.push(served);
      // The first request on a fresh Redis loads the script (NOSCRIPT, then EVAL): not the steady state.
      await waitFor('the limiter to count in Redis', async () => {
        await hits(served.url, 1, { 'x-k': 'warm-up' });
        return (await suite.admin.exists(`routelens:rl:${name}:warm-up`)) === 1;
      });
      const monitor = await suite.admin.monitor();
      const calls: Record<string, number> = {};
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source === 'lua') return;
        const command = args[0]!.toLowerCase();
        calls[command] = (calls[command] ?? 0) + 1;
      });
      try {
        assert.deepEqual(await hits(served.url, 7, { 'x-k': 'counted' }), [200, 200, 200, 200, 200, 429, 429]);
        // MONITOR's reports trail the replies: wait for the last one.
        await waitFor('the monitor to report every command', () => (calls.evalsha ?? 0) >= 7);
        await sleep(100);
      } finally {
        monitor.disconnect();
      }
      assert.deepEqual(calls, { evalsha: 7 }, JSON.stringify(calls));
      assert.equal(rl.list()[0]!.storeErrors, 0);
    });
  }
});
