/**
 * The server variants of bench/server.ts, in a module with no side effects (server.ts starts a
 * server when imported, so the tools that only need the list import it from here).
 *
 * bare: Express alone (bare-b: the same, a second child for an A/A noise check) · agent: createAgent() defaults (metrics, alerts, local server + stream) and its middleware ·
 * agent-metrics: the middleware with `server: false` (no stream) · agent-idle: createAgent(), no middleware ·
 * noop: bare plus one middleware that only calls next() (what any middleware costs: the router's work per layer) ·
 * rl-memory / rl-redis: agent-idle plus one app-wide limiter on that store.
 */
export const VARIANTS = ['bare', 'bare-b', 'noop', 'agent', 'agent-metrics', 'agent-idle', 'rl-memory', 'rl-redis'] as const;
export type Variant = (typeof VARIANTS)[number];

/** The variants that need no Redis server (the standalone tools start none). */
export const LOCAL_VARIANTS: readonly Variant[] = VARIANTS.filter((v) => v !== 'rl-redis');

/** A `--variants a,b` list for the standalone tools: each must be one of LOCAL_VARIANTS. */
export function localVariants(list: string): Variant[] {
  const variants = list.split(',') as Variant[];
  for (const v of variants) if (!LOCAL_VARIANTS.includes(v)) throw new Error(`unknown or unsupported variant ${v}`);
  return variants;
}
