/**
 * `npm run demo`: the demo app with the RouteLens agent and bounded synthetic
 * traffic. Options: --port N (app port, default 3000, 0 = any), --no-traffic,
 * --duration SECONDS (traffic, default 600), --rate N (requests/s, default 20).
 * With ROUTELENS_REDIS_URL set, the cache's L2 and the rate limiter use Redis.
 */
import { parseArgs } from 'node:util';
import { createDemoApp } from './app.mjs';
import { startTraffic } from './traffic.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '3000' },
    traffic: { type: 'boolean', default: true },
    'no-traffic': { type: 'boolean', default: false },
    duration: { type: 'string', default: '600' },
    rate: { type: 'string', default: '20' },
  },
});

const { app, agent } = createDemoApp();
const server = app.listen(Number(values.port), '127.0.0.1', async () => {
  const { port } = server.address();
  const info = await agent.ready();
  console.log(`Demo app listening on http://127.0.0.1:${port}`);
  if (info) {
    const file = info.discoveryFile ?? '<discovery file>';
    console.log(`RouteLens agent listening on ${info.url} (token in ${file}, never printed)`);
    console.log(`Open this folder in VS Code with the RouteLens extension: it connects by itself.`);
    console.log(`Scripts: curl -H "Authorization: Bearer $(jq -r .token ${file})" ${info.url}/v1/endpoints`);
  } else {
    console.log('RouteLens agent is disabled (ROUTELENS_DISABLED) or could not start; the app runs on.');
  }
  console.log(`Cache: ${process.env.ROUTELENS_REDIS_URL ? 'two-tier, L2 on ' + process.env.ROUTELENS_REDIS_URL.replace(/\/\/[^@]*@/, '//***@') : 'in memory (set ROUTELENS_REDIS_URL for Redis)'}`);
  if (values.traffic && !values['no-traffic']) {
    const traffic = startTraffic({ port, ratePerSecond: Number(values.rate), durationMs: Number(values.duration) * 1000 });
    console.log(`Synthetic traffic: ${values.rate} req/s for ${values.duration} s (--no-traffic to turn off). Ctrl+C stops.`);
    void traffic.done.then(({ sent }) => console.log(`Synthetic traffic finished after ${sent} requests; the app keeps running.`));
  }
});

const shutdown = async () => {
  server.close();
  server.closeAllConnections?.();
  await agent.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
