/**
 * The server variants of bench/server.ts, in a module with no side effects (server.ts starts a
 * server when imported, so the tools that only need the list import it from here).
 *
 * One row per variant: what the child builds (the agent, if any, and the middleware mounted
 * before the app's routes), the environment it starts with, and whether the parent attaches a
 * stream client (an editor reading the agent's deltas). To measure a new variant, add a row
 * here (and, for a new kind of middleware, a case in server.ts's `mountMiddleware`); the suite's
 * `--variants` option adds it to section 4 beside the others. `agent-spans` and `agent-nospans`
 * are such rows: the default agent with `ROUTELENS_SPANS=1` (every request traced) or `=0`.
 */
export type AgentKind = 'none' | 'idle' | 'metrics' | 'full';
export type MiddlewareKind = 'none' | 'noop' | 'agent' | 'status-monitor' | 'prom-bundle' | 'rl-memory' | 'rl-redis' | 'erl-memory' | 'erl-redis' | 'floor';

export interface VariantSpec {
  /** none: no agent; idle: createAgent() and no middleware; metrics: `server: false`; full: createAgent()'s defaults. */
  agent: AgentKind;
  middleware: MiddlewareKind;
  /** The parent attaches a WebSocket client reading the agent's stream (an editor attached). */
  stream?: boolean;
  /** Extra environment of the server child (a feature switched on by an environment variable). */
  env?: Readonly<Record<string, string>>;
  /** Needs the suite's private Redis. */
  redis?: boolean;
  help: string;
}

export const VARIANT_SPECS = {
  bare: { agent: 'none', middleware: 'none', help: 'Express alone' },
  'bare-b': { agent: 'none', middleware: 'none', help: 'the same as bare, a second child: the A/A noise check' },
  noop: { agent: 'none', middleware: 'noop', help: "one middleware that only calls next() (the router's work per layer)" },
  agent: { agent: 'full', middleware: 'agent', stream: true, help: "createAgent()'s defaults (metrics, alerts, local server, history, spans for a sample of requests) and its middleware, a stream client attached" },
  'agent-nospans': { agent: 'full', middleware: 'agent', stream: true, env: { ROUTELENS_SPANS: '0' }, help: 'as agent, with ROUTELENS_SPANS=0 (no spans)' },
  'agent-metrics': { agent: 'metrics', middleware: 'agent', help: 'the middleware with `server: false` (no local server, no stream)' },
  'agent-idle': { agent: 'idle', middleware: 'none', help: 'createAgent(), no middleware' },
  'agent-idle-nospans': { agent: 'idle', middleware: 'none', env: { ROUTELENS_SPANS: '0' }, help: 'agent-idle with ROUTELENS_SPANS=0 (no layer hook): what the spans cost an app they never trace' },
  'agent-idle-inline': { agent: 'idle', middleware: 'none', env: { ROUTELENS_WORKER: '0' }, help: "agent-idle with ROUTELENS_WORKER=0 (no worker thread): what the worker's presence costs an app" },
  'agent-idle-b': { agent: 'idle', middleware: 'none', help: 'the same as agent-idle, a second child: the limiter section\'s A/A check' },
  'agent-worker': { agent: 'full', middleware: 'agent', stream: true, env: { ROUTELENS_WORKER: '1' }, help: "as agent, with ROUTELENS_WORKER=1 (the back end in the agent's worker thread)" },
  'agent-inline': { agent: 'full', middleware: 'agent', stream: true, env: { ROUTELENS_WORKER: '0' }, help: "as agent, with ROUTELENS_WORKER=0 (the back end in the app's main thread)" },
  'agent-spans': { agent: 'full', middleware: 'agent', stream: true, env: { ROUTELENS_SPANS: '1' }, help: 'as agent, with ROUTELENS_SPANS=1 (spans recorded for every request)' },
  floor: {
    agent: 'none',
    middleware: 'floor',
    help: "the floor of per-route timing: two diagnostics-channel subscribers (a request's start, its response's finish), a Map of starts, a count per `req.route.path` and a ring of durations; no middleware",
  },
  'status-monitor': { agent: 'none', middleware: 'status-monitor', help: 'anchor: express-status-monitor with its defaults' },
  'prom-bundle': { agent: 'none', middleware: 'prom-bundle', help: 'anchor: express-prom-bundle (method and path labels, /metrics)' },
  'rl-memory': { agent: 'idle', middleware: 'rl-memory', help: "agent-idle plus one app-wide agent.rateLimit() on the memory store" },
  'rl-redis': { agent: 'idle', middleware: 'rl-redis', redis: true, help: 'agent-idle plus one app-wide agent.rateLimit() on the Redis store' },
  'erl-memory': { agent: 'idle', middleware: 'erl-memory', help: "anchor: agent-idle plus express-rate-limit used directly, its own MemoryStore" },
  'erl-redis': { agent: 'idle', middleware: 'erl-redis', redis: true, help: "anchor: agent-idle plus express-rate-limit used directly over rate-limiter-flexible's RateLimiterRedis" },
} as const satisfies Readonly<Record<string, VariantSpec>>;

export type Variant = keyof typeof VARIANT_SPECS;
export const VARIANTS = Object.keys(VARIANT_SPECS) as Variant[];

export function specOf(variant: Variant): VariantSpec {
  return VARIANT_SPECS[variant];
}
