/**
 * A limiter used from code: `limiter.check(key)` and `limiter.consume(key, points)`
 * for what is not a request (a job, a WebSocket message). Same store, keys,
 * Redis failure policy and stats as the limiter's middleware; a call counts in
 * the stats as one request under the route CODE_ROUTE.
 */
import { RouteLensError, invalidOption } from '../errors';
import type { LimiterHost } from './limiter';
import type { LimiterConfig, RateLimitMiddleware, RateLimitResult } from './options';
import type { LimiterStats } from './stats';
import type { CountingStore, Fallback } from './stores';

/** The route under which calls from code are counted in a limiter's stats. */
export const CODE_ROUTE = '(code)';
const MAX_POINTS = 1e9;

/** What the code methods read of their limiter. */
export interface CodeLimiter {
  readonly config: LimiterConfig;
  readonly stats: LimiterStats;
  readonly store: CountingStore;
  /** The max in force. */
  readonly max: number;
}

export function codeMethods(limiter: CodeLimiter, host: LimiterHost): Pick<RateLimitMiddleware, 'check' | 'consume'> {
  const { name, allowList } = limiter.config;
  /** An allow-listed key, as for a request: never limited nor counted. */
  const allowed = (key: string): RateLimitResult | undefined => (allowList?.has(key) === true ? result(true, limiter.max, limiter.max, 0, undefined) : undefined);
  return {
    async check(key: string, points?: number): Promise<RateLimitResult> {
      const p = validPoints(points);
      const k = validKey(key);
      if (host.closed) throw closed(name);
      const listed = allowed(k);
      if (listed !== undefined) return listed;
      const { remaining, ms, fallback } = await limiter.store.peek(k, p);
      return result(remaining >= p, limiter.max, remaining, ms, fallback);
    },

    async consume(key: string, points?: number): Promise<RateLimitResult> {
      const p = validPoints(points);
      const k = validKey(key);
      if (host.closed) throw closed(name);
      const listed = allowed(k);
      if (listed !== undefined) return listed;
      const { hits, ms, fallback } = await limiter.store.take(k, p);
      const max = limiter.max;
      const within = hits <= max;
      try {
        if (within) limiter.stats.recordAllowed(host.clock(), CODE_ROUTE);
        else limiter.stats.recordLimited(host.clock(), CODE_ROUTE, k);
        host.markChanged();
      } catch (err) {
        host.diag.failure('ROUTELENS_RL_STATS', err);
      }
      return result(within, max, Math.max(0, max - hits), ms, fallback);
    },
  };
}

function result(allowed: boolean, limit: number, remaining: number, resetMs: number, fallback: Fallback | undefined): RateLimitResult {
  const out: RateLimitResult = { allowed, limit, remaining: Math.min(limit, Math.max(0, remaining)), resetMs: Math.max(0, resetMs) };
  if (fallback !== undefined) out.fallback = fallback;
  return out;
}

function validPoints(points: unknown): number {
  if (points === undefined) return 1;
  if (typeof points !== 'number' || !Number.isInteger(points) || points < 1 || points > MAX_POINTS) throw invalidOption('points', `an integer from 1 to ${MAX_POINTS}`, points);
  return points;
}

function validKey(key: unknown): string {
  if (typeof key !== 'string') throw invalidOption('key', 'a string', key);
  return key;
}

function closed(name: string): RouteLensError {
  return new RouteLensError('ROUTELENS_ERR_CLOSED', `rate limiter "${name}": the agent is closed`);
}
