/**
 * `npm run demo`: the demo app with the RouteLens agent and bounded synthetic
 * traffic. `--help` lists the options (examples/demo/args.mjs).
 */
import { createDemoApp } from './app.mjs';
import { demoArgsOrExit } from './args.mjs';
import { startTraffic } from './traffic.mjs';

const args = demoArgsOrExit(process.argv.slice(2));
const { app, agent } = createDemoApp();
const redisUrl = process.env.ROUTELENS_REDIS_URL;

/** Listens on `port`, or on a free port (with a line saying so) when it is taken. */
function listen(port) {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1');
    server.once('listening', () => resolve(server));
    server.once('error', (err) => {
      if (err.code === 'EADDRINUSE' && port !== 0) {
        console.log(`Port ${port} is in use; the demo takes a free port instead (--port N chooses one).`);
        resolve(listen(0));
      } else reject(err);
    });
  });
}

const server = await listen(args.port).catch((err) => {
  console.error(`demo: cannot listen on port ${args.port}: ${err.message}`);
  process.exit(1);
});
const { port } = server.address();
const info = await agent.ready();
console.log(`Demo app listening on http://127.0.0.1:${port}`);
if (info) {
  const file = info.discoveryFile ?? '<discovery file>';
  console.log(`RouteLens agent listening on ${info.url} (token in ${file}, never printed)`);
  console.log('Open this folder in VS Code with the RouteLens extension: it connects by itself.');
  console.log(`Scripts: curl -H "Authorization: Bearer $(node -p "require('${file}').token")" ${info.url}/v1/endpoints`);
} else {
  console.log('RouteLens agent is disabled (ROUTELENS_DISABLED) or could not start; the app runs on.');
}
console.log(`Cache: ${redisUrl ? 'two-tier, L2 on ' + redisUrl.replace(/\/\/[^@]*@/, '//***@') : 'in memory (set ROUTELENS_REDIS_URL for Redis)'}`);
if (args.traffic) {
  const traffic = startTraffic({ port, ratePerSecond: args.rate, durationMs: args.duration * 1000 });
  console.log(`Synthetic traffic: ${args.rate} req/s for ${args.duration} s (--no-traffic to turn off). Ctrl+C stops.`);
  void traffic.done.then(({ sent }) => console.log(`Synthetic traffic finished after ${sent} requests; the app keeps running.`));
}

const shutdown = async () => {
  server.close();
  server.closeAllConnections?.();
  await agent.close();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
