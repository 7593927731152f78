/**
 * The one place the benchmarks touch the agent's public API. If a name in
 * agent/index.ts changes, fix it here and nowhere else.
 *
 * The agent is loaded with a computed require so the bench still type-checks
 * and runs (measuring bare Express, raw lru-cache and raw ioredis) while the
 * agent is absent or broken. Which agent (ROUTELENS_BENCH_AGENT):
 *   bundle (default) the bench bundles agent/index.ts with esbuild the way
 *                    `npm run build` does (dependencies external) into
 *                    bench/results/agent-bundle/, so it measures what users
 *                    run without depending on the state of dist/;
 *   dist             dist/agent/index.js as built by `npm run build`;
 *   tsx              the TypeScript sources through tsx (adds esbuild's
 *                    keepNames `__name` calls on every named closure);
 *   /abs/path.js     that file (bench/cpu.ts compares a saved bundle of an
 *                    earlier commit with the current one this way).
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { RequestHandler } from 'express';
import type { EndpointStats, Snapshot } from '../../protocol';

/** The slice of the agent's cache the cache bench uses. */
export interface BenchCache {
  get(key: string): unknown;
  set(key: string, value: unknown, opts?: unknown): unknown;
  /** Used to check that the L2 case really hit L2. */
  stats?(): { redis: string; l1: { hits: number }; l2: { hits: number } };
  close?(): Promise<void>;
}

/**
 * Cache options for the cache bench. `l1`: a long L1 lifetime so every read
 * in the run is an L1 hit. `l2Only`: an L1 of one entry, so reads that cycle
 * through many keys miss L1 and hit Redis each time (the L2 hit path,
 * including the copy into L1).
 */
export const CACHE_OPTIONS = {
  l1: { l1Ttl: 3_600_000 },
  l2Only: { maxEntries: 1 },
} as const;

/** The slice of the public API the benches use (see agent/index.ts). */
export interface BenchAgent {
  middleware(): RequestHandler;
  rateLimit(opts: Record<string, unknown>): RequestHandler;
  cache: BenchCache | undefined;
  snapshot(): Snapshot;
  /** Resolves once the local server listens. */
  ready?(): Promise<{ port: number; token: string } | undefined>;
  close(): Promise<void>;
}

export interface AgentModule {
  createAgent(opts: Record<string, unknown>): BenchAgent;
}

const ROOT = resolve(__dirname, '..', '..');

const BUNDLE = join(ROOT, 'bench', 'results', 'agent-bundle', 'index.js');

export function agentSource(): string {
  const which = process.env.ROUTELENS_BENCH_AGENT ?? 'bundle';
  if (which === 'dist') return join(ROOT, 'dist', 'agent', 'index.js');
  if (which === 'tsx') return join(ROOT, 'agent', 'index.ts');
  if (which.endsWith('.js')) return resolve(which);
  return BUNDLE;
}

/** With the default source: bundles the agent (once per bench run, in the parent, before any child starts). */
export async function prepareAgent(outfile = BUNDLE): Promise<string | undefined> {
  if (outfile === BUNDLE && agentSource() !== BUNDLE) return undefined;
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
   
  const esbuild = require('esbuild') as typeof import('esbuild');
  const { agentBundle } = require(join(ROOT, 'scripts', 'agent-bundle.cjs')) as { agentBundle: import('esbuild').BuildOptions };
  try {
    await esbuild.build({
      absWorkingDir: ROOT,
      // The worker beside the agent, as in dist/agent/ (the agent starts it with `worker: true`).
      entryPoints: { [basename(outfile, '.js')]: join(ROOT, 'agent', 'index.ts'), worker: join(ROOT, 'agent', 'worker', 'main.ts') },
      outdir: dirname(outfile),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: true,
      logLevel: 'silent',
      external: [...Object.keys(pkg.dependencies ?? {}), 'express'],
      define: { __ROUTELENS_VERSION__: JSON.stringify(pkg.version) },
      // As the package is built (scripts/agent-bundle.cjs): minified but for names, pure ASCII.
      ...agentBundle,
    });
    return undefined;
  } catch (err) {
    return `bundling agent/index.ts failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

let loaded: { mod?: AgentModule; error?: string } | undefined;

/** The agent module, or the reason it could not be loaded. */
export function loadAgent(): { mod?: AgentModule; error?: string } {
  if (loaded) return loaded;
  const file = agentSource();
  try {
     
    const mod = require(file) as Partial<AgentModule>;
    loaded = typeof mod.createAgent === 'function' ? { mod: mod as AgentModule } : { error: `${file} has no createAgent export` };
  } catch (err) {
    loaded = { error: `cannot load ${file}: ${(err as Error).message.split('\n')[0]}` };
  }
  return loaded;
}

/**
 * A cache made the way createAgent makes agent.cache. Uses the agent when it
 * loads; until then (the agent is built in parts) agent/cache's createCache.
 */
export function benchCache(mod: AgentModule | undefined, redis: string, options: Record<string, unknown>, discoveryDir: string): { cache: BenchCache; close(): Promise<void>; via: string } | undefined {
  if (mod) {
    const agent = startAgent(mod, { name: 'bench-cache', discoveryDir, redis }, { server: false, cache: options });
    if (!agent.cache) throw new Error('agent.cache is undefined');
    return { cache: agent.cache, close: () => agent.close(), via: 'createAgent().cache' };
  }
  try {
     
    const { createCache } = require(join(ROOT, 'agent', 'cache', 'index.ts')) as { createCache(o: Record<string, unknown>): BenchCache & { close(): Promise<void> } };
    const cache = createCache({ ...options, redis });
    return { cache, close: () => cache.close(), via: 'createCache() (agent/cache; createAgent not loadable yet)' };
  } catch {
    return undefined;
  }
}

/** Waits until the cache reports Redis ready (its L2 writes and reads go through). */
export async function cacheRedisReady(cache: BenchCache, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!cache.stats || cache.stats().redis === 'ready') return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

export interface StartOptions {
  name: string;
  /** Private discovery dir so the bench can read the port and token; never the user's. */
  discoveryDir: string;
  redis?: string;
  /** The app's express module, so routes are instrumented whatever the load order. */
  express?: unknown;
}

/** An agent with everything on that createAgent enables by default (metrics, alerts, local server). */
export function startAgent(mod: AgentModule, opts: StartOptions, extra: Record<string, unknown> = {}): BenchAgent {
  return mod.createAgent({
    ...extra,
    port: 0,
    name: opts.name,
    discoveryDir: opts.discoveryDir,
    ...(opts.redis ? { redis: opts.redis } : {}),
    ...(opts.express ? { express: opts.express } : {}),
  });
}

/** The agent's local server: from agent.ready(), else from its discovery record. */
export async function agentServer(agent: BenchAgent, discoveryDir: string): Promise<{ port: number; token: string } | undefined> {
  if (typeof agent.ready === 'function') {
    const r = await agent.ready();
    if (r) return { port: r.port, token: r.token };
  }
  return agentAddress(discoveryDir);
}

/** Where the agent's local server listens, from its discovery record (protocol/discovery.ts). */
export async function agentAddress(discoveryDir: string, pid = process.pid, timeoutMs = 5000): Promise<{ port: number; token: string } | undefined> {
  const deadline = Date.now() + timeoutMs;
  const file = join(discoveryDir, `agent-${pid}.json`);
  for (;;) {
    try {
      const rec = JSON.parse(readFileSync(file, 'utf8')) as { port?: number; token?: string };
      if (rec.port && rec.token) return { port: rec.port, token: rec.token };
    } catch {
      // not written yet
    }
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The limiters' names (their anchors use them in the same draft-8 headers). */
export const MEMORY_LIMITER = 'bench-memory';
export const REDIS_LIMITER = 'bench-redis';

export function memoryLimiter(agent: BenchAgent): RequestHandler {
  return agent.rateLimit({ name: MEMORY_LIMITER, windowMs: 60_000, max: 1_000_000_000, store: 'memory' });
}

/**
 * The Redis limiter's call budget: long enough that a saturated server does not time calls out.
 * With the default 50 ms the peak phase timed calls out and the limiter skipped Redis while
 * cooling down (its store errors), doing less work than its anchor, which waits for every answer.
 */
const REDIS_BUDGET_MS = 5000;

export function redisLimiter(agent: BenchAgent): RequestHandler {
  return agent.rateLimit({ name: REDIS_LIMITER, windowMs: 60_000, max: 1_000_000_000, store: 'redis', timeout: REDIS_BUDGET_MS });
}

/** The agent's own figures for one endpoint id (`GET /users/:id`). */
export function endpointFigures(snapshot: Snapshot, id: string): EndpointStats | undefined {
  return snapshot.endpoints.find((e) => e.id === id);
}
