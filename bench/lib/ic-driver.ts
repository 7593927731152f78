/**
 * The program bench/ic.ts runs under `node --log-ic` (bundled to plain JS first, so no
 * TypeScript is compiled in the logged process): the section-1 app in this process,
 * `warmup` requests, then `requests` more, one at a time over one keep-alive connection,
 * then exit. Arguments: <bare|noop|agent-idle|agent-metrics> <warmup> <requests>; the agent comes from
 * ROUTELENS_BENCH_AGENT (a bundle path).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mixedPlan } from './plan';
import { addRoutes } from './app';
import { loadAgent, startAgent } from './adapter';
import { runLoad } from './client';

async function main(): Promise<void> {
  const [variant, warmup, requests] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
   
  const express = require('express') as typeof import('express');
  const discoveryDir = mkdtempSync(join(tmpdir(), 'routelens-ir-'));
  let agent;
  // The agent before the app, as bench/server.ts and the docs have it: Express copies the
  // application methods route capture patches onto each app when the app is created.
  if (variant === 'agent-metrics' || variant === 'agent-idle') {
    const { mod, error } = loadAgent();
    if (!mod) throw new Error(error);
    // Timers off: a logged run is many times slower, and timer work that is per wall second
    // would count as per request.
    agent = startAgent(mod, { name: 'bench-ir', discoveryDir, express }, { server: false, evaluateMs: 600_000, systemMs: 600_000 });
  } else if (variant !== 'bare' && variant !== 'noop') throw new Error(`unknown variant ${variant}`);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  // agent-idle: the agent created (route capture patched into Express, timers running) but no middleware.
  if (variant === 'agent-metrics') app.use(agent!.middleware());
  if (variant === 'noop') app.use((_req: unknown, _res: unknown, next: () => void) => next());
  addRoutes(app, express);
  const server = http.createServer(app);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const plan = mixedPlan(port);
  const run = async (n: number) => {
    if (n === 0) return;
    const r = await runLoad({ port, requests: plan, connections: 1, durationMs: 3_600_000, maxRequests: n });
    if (r.responses !== n || r.errors) throw new Error(`${r.responses} responses, ${r.errors} errors`);
  };
  await run(warmup);
  await run(requests);
  server.closeAllConnections();
  server.close();
  await agent?.close();
  rmSync(discoveryDir, { recursive: true, force: true });
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
