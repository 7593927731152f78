/**
 * The agent's command dispatcher: one handler per command name, each typed by
 * its arguments and result in protocol/commands.ts, so the compiler checks
 * every handler and flags a command without one. Arguments arrive validated
 * (protocol/validate.ts); failures leave as ProtocolErrors.
 */
import { type CommandArgs, type CommandName, type CommandResults, ProtocolError, type Snapshot } from '../protocol';
import type { Cache, InvalidateTarget } from './cache';
import { RouteLensError } from './errors';
import type { FindingsEngine } from './findings';
import type { RouteProfiler } from './profile';
import type { History } from './history';
import type { Alerts, CommandSource, Metrics } from './internal';
import type { RateLimits } from './ratelimit';
import type { SpanKeeper } from './spans/keep';

/**
 * Commands on the app's parts (the cache, limiters, spans, findings, profiles, measuring): run by
 * the front, which reads them live (the back end's view of them may be a batch old).
 */
export const FRONT_COMMANDS: ReadonlySet<CommandName> = new Set<CommandName>([
  'cache.stats',
  'cache.keys',
  'cache.inspect',
  'cache.invalidate',
  'cache.clearNamespace',
  'cache.warm',
  'rateLimit.list',
  'rateLimit.resetKey',
  'rateLimit.setMax',
  'measuring.set',
  'findings.list',
  'profile.start',
]);

export type CommandHandler<C extends CommandName> = (args: CommandArgs<C>, source: CommandSource) => CommandResults[C] | Promise<CommandResults[C]>;
export type CommandHandlers = { [C in CommandName]: CommandHandler<C> };

/** What the commands act on (read when a command runs: parts may be absent). */
export interface CommandParts {
  snapshot(): Snapshot;
  metrics(): Pick<Metrics, 'reset' | 'setSlowThresholds' | 'endpoint'> | undefined;
  spans(): SpanKeeper | undefined;
  alerts(): Alerts;
  cache(): Cache | undefined;
  rateLimits(): RateLimits;
  findings(): FindingsEngine | undefined;
  profiler(): RouteProfiler | undefined;
  history(): History | undefined;
  /** Called after thresholds.set (the next delta carries the thresholds). */
  thresholdsSet(): void;
  /** Pauses or resumes measuring; returns whether it is paused now. */
  setPaused(paused: boolean): boolean;
}

export function commandTable(p: CommandParts): CommandHandlers {
  const cache = (): Cache => {
    const c = p.cache();
    if (!c) throw new ProtocolError('ERR_UNAVAILABLE', 'this agent has no cache');
    return c;
  };
  const history = (): History => {
    const h = p.history();
    if (!h) throw new ProtocolError('ERR_UNAVAILABLE', 'this agent keeps no history (history: false, ROUTELENS_HISTORY=0, or measuring off)');
    return h;
  };
  const spans = (): SpanKeeper => {
    const s = p.spans();
    if (!s) throw new ProtocolError('ERR_UNAVAILABLE', 'this agent does not record spans (spans: false)');
    return s;
  };
  return {
    snapshot: () => p.snapshot(),
    reset: ({ endpoint }) => {
      const reset = p.metrics()?.reset(endpoint) ?? 0;
      if (endpoint !== undefined && reset === 0) throw new ProtocolError('ERR_NOT_FOUND', `no endpoint ${endpoint}`);
      return { reset };
    },
    'thresholds.get': () => p.alerts().thresholds(),
    'thresholds.set': ({ thresholds }) => {
      const next = p.alerts().setThresholds(thresholds);
      p.metrics()?.setSlowThresholds(next.slowMs);
      p.thresholdsSet();
      return next;
    },
    'alerts.list': () => ({ active: p.alerts().active(), history: p.alerts().history() }),
    'alerts.resolve': ({ id }) => p.alerts().resolve(id),
    'measuring.set': ({ paused }) => ({ paused: p.setPaused(paused) }),
    'traces.list': ({ endpoint, limit }) => ({ traces: spans().traces(endpoint, limit) }),
    'endpoint.breakdown': ({ endpoint, window = '5m' }) => {
      const stats = p.metrics()?.endpoint(endpoint);
      if (stats === undefined && !spans().has(endpoint)) throw new ProtocolError('ERR_NOT_FOUND', `no endpoint ${endpoint}`);
      return spans().breakdown(endpoint, window, stats?.windows[window].count ?? 0);
    },
    'findings.list': () => ({ findings: p.findings()?.list() ?? unavailable('findings') }),
    'profile.start': ({ endpoint, seconds }) => (p.profiler() ?? unavailable('route profiles')).profile(endpoint, seconds),
    'history.get': (args) => history().get(args),
    'baseline.compare': () => history().compare(),
    'baseline.set': ({ file }) => history().setBaseline(file),
    'cache.stats': () => cache().stats(),
    'cache.keys': (args) => cache().keys(args),
    'cache.inspect': async ({ key }) => {
      const found = await cache().inspect(key);
      if (!found) throw new ProtocolError('ERR_NOT_FOUND', `no cache key ${JSON.stringify(key.slice(0, 200))}`);
      return found;
    },
    'cache.invalidate': ({ dryRun, ...target }, source) => cache().invalidate(invalidateTarget(target), { dryRun, source }),
    'cache.clearNamespace': ({ namespace, dryRun }, source) => cache().clearNamespace(namespace, { dryRun, source }),
    'cache.warm': ({ name }) => cache().warm(name),
    'rateLimit.list': () => p.rateLimits().list(),
    'rateLimit.resetKey': ({ limiter, key }) => p.rateLimits().resetKey(limiter, key),
    'rateLimit.setMax': ({ limiter, max }) => p.rateLimits().setMax(limiter, max),
  };
}

/** Runs one handler; the agent's own coded errors leave as protocol errors. */
export async function runHandler<C extends CommandName>(handler: CommandHandler<C>, args: CommandArgs<C>, source: CommandSource): Promise<CommandResults[C]> {
  try {
    return await handler(args, source);
  } catch (err) {
    throw toProtocolError(err);
  }
}

/** The one target of a cache.invalidate (the schema guarantees exactly one). */
function invalidateTarget({ key, pattern, tag }: Omit<CommandArgs<'cache.invalidate'>, 'dryRun'>): InvalidateTarget {
  if (key !== undefined) return { key };
  if (pattern !== undefined) return { pattern };
  if (tag !== undefined) return { tag };
  throw new ProtocolError('ERR_BAD_ARGS', 'give exactly one of key, pattern or tag');
}

/** Maps the agent's own coded errors onto protocol error codes. */
function toProtocolError(err: unknown): unknown {
  if (err instanceof ProtocolError) return err;
  if (err instanceof RouteLensError) {
    if (err.code === 'ROUTELENS_ERR_PATTERN_REJECTED') return new ProtocolError('ERR_PATTERN_REJECTED', err.message);
    if (err.code === 'ROUTELENS_ERR_NOT_FOUND') return new ProtocolError('ERR_NOT_FOUND', err.message);
    if (err.code === 'ROUTELENS_ERR_INVALID_OPTION') return new ProtocolError('ERR_BAD_ARGS', err.message);
  }
  return err;
}

function unavailable(what: string): never {
  throw new ProtocolError('ERR_UNAVAILABLE', `this agent does not record ${what} yet`);
}
