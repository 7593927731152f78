/**
 * `npm run bench -- cpu`: a low-noise A/B of server CPU per request, for deciding whether a
 * change to the request path helps (the suite answers "what does the agent cost"; this answers
 * "is B cheaper than A", with a spread small enough to see a few microseconds). Options in
 * bench/lib/args.ts.
 *
 * One long-lived server child (bench/server.ts) per variant, each warmed up, then `batches`
 * rounds; in each round every child in turn (rotating order) gets `requests` requests of the
 * section-1 mix, closed loop over `connections` keep-alive connections (1 = strictly
 * sequential: no batching of reads or writes, so each request pays its whole cost), and the
 * child's own process.cpuUsage() is read before and after over IPC. A change in the machine's
 * load lands on neighbouring batches of every variant alike, so the figure to read is the
 * median of the per-round paired differences against the first variant, with its
 * interquartile range.
 *
 * `--base FILE` adds, for every agent variant, a second child that loads the agent from FILE
 * (an earlier commit's bundle made with `save-base`), named `<variant>@base`: old and new code
 * measured side by side in one run.
 */
import { join, resolve } from 'node:path';
import { Child } from './http';
import { mixedPlan } from './lib/plan';
import { prepareAgent } from './lib/adapter';
import { Connections } from './lib/client';
import type { BenchInvocation } from './lib/args';
import { median, quantileSorted, table } from './lib/stats';
import { specOf, type Variant } from './lib/variants';
import { startRedis, type TestRedis } from '../test/support/redis';

type CpuOptions = Extract<BenchInvocation, { command: 'cpu' }>['options'];

interface Runner {
  name: string;
  child: Child;
  load: Connections;
  usPerRequest: number[];
}

/** `npm run bench -- save-base FILE`: the current agent/ bundled to FILE, for a later `--base FILE`. */
export async function saveBase(file: string): Promise<void> {
  const err = await prepareAgent(resolve(file));
  if (err) throw new Error(err);
  process.stdout.write(`agent bundle written to ${file}\n`);
}

export async function runCpu(options: CpuOptions): Promise<void> {
  const args = { ...options, variants: options.variants as Variant[], base: options.base === undefined ? undefined : resolve(options.base) };
  const bundle = join(__dirname, 'results', 'agent-bundle', 'index.js');
  const err = await prepareAgent(bundle);
  if (err) throw new Error(err);

  const specs: Array<{ name: string; variant: Variant; agent?: string }> = [];
  for (const v of args.variants) {
    const isAgent = specOf(v).agent !== 'none';
    specs.push({ name: v, variant: v, agent: isAgent ? bundle : undefined });
    // The anchors (express-rate-limit used directly) do not run the agent's code on the request path.
    if (isAgent && args.base && !specOf(v).middleware.startsWith('erl-')) specs.push({ name: `${v}@base`, variant: v, agent: args.base });
  }
  const runners: Runner[] = [];
  // The Redis variants (the limiter's store and its anchor) share one private redis-server.
  const redis: TestRedis | undefined = args.variants.some((v) => specOf(v).redis === true) ? await startRedis() : undefined;
  try {
    for (const s of specs) {
      const child = await Child.spawn(s.variant, { redisUrl: redis?.url }, s.agent ? { env: { ROUTELENS_BENCH_AGENT: s.agent } } : {});
      runners.push({ name: s.name, child, load: await Connections.open(child.ready.port, mixedPlan(child.ready.port), args.connections), usPerRequest: [] });
    }
    const load = (r: Runner, n: number) => r.load.run({ durationMs: 120_000, maxRequests: n });
    for (const r of runners) await load(r, Math.max(5000, args.requests));
    for (let b = 0; b < args.batches; b++) {
      for (let k = 0; k < runners.length; k++) {
        const r = runners[(k + b) % runners.length]!;
        const c0 = await r.child.cpuUs();
        const res = await load(r, args.requests);
        const c1 = await r.child.cpuUs();
        if (res.errors > 0 || res.responses !== args.requests) throw new Error(`${r.name}: ${res.responses} responses, ${res.errors} errors`);
        r.usPerRequest.push((c1 - c0) / res.responses);
      }
      process.stderr.write(`\r  batch ${b + 1}/${args.batches}`);
    }
    process.stderr.write('\n');
  } finally {
    for (const r of runners) {
      r.load.close();
      await r.child.close();
    }
    await redis?.stop();
  }

  const base = runners[0]!;
  const rows = runners.map((r) => {
    const sorted = [...r.usPerRequest].sort((x, y) => x - y);
    const diffs = r.usPerRequest.map((v, i) => v - base.usPerRequest[i]!).sort((x, y) => x - y);
    const m = median(r.usPerRequest);
    const d = median(diffs);
    return [
      r.name,
      m.toFixed(1),
      `${quantileSorted(sorted, 0.25).toFixed(1)}–${quantileSorted(sorted, 0.75).toFixed(1)}`,
      r === base ? '' : `${d >= 0 ? '+' : ''}${d.toFixed(1)}`,
      r === base ? '' : `${quantileSorted(diffs, 0.25).toFixed(1)} … ${quantileSorted(diffs, 0.75).toFixed(1)}`,
      r === base ? '' : `${d >= 0 ? '+' : ''}${((d / median(base.usPerRequest)) * 100).toFixed(1)} %`,
    ];
  });
  process.stdout.write(
    `${args.batches} batches × ${args.requests} requests over ${args.connections} connection(s); server CPU (user+system) per request, µs\n` +
      table(['variant', 'median', 'IQR', `Δ vs ${base.name} (median of paired)`, 'Δ IQR', 'Δ %'], rows) +
      '\n',
  );
}

