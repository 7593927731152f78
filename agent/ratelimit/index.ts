/**
 * Rate limiting, global and per route, in memory or shared through Redis.
 *
 * Built on express-rate-limit 8 (the middleware: standard `RateLimit` /
 * `RateLimit-Policy` headers of drafts 6–8, legacy `X-RateLimit-*`,
 * `Retry-After`, `ipKeyGenerator`'s IPv6 subnets, its configuration
 * validations, `passOnStoreError`) with our stores (stores.ts, redis-store.ts): a bounded
 * in-memory counter, and rate-limiter-flexible 11's RateLimiterRedis (atomic
 * Lua, one round trip, an in-memory `insuranceLimiter` when Redis fails).
 *
 * What we add: routing express-rate-limit's console warnings to Diagnostics,
 * a per-request X-Forwarded-For check (its own runs on the first request
 * only), sliding-window and token-bucket algorithms, an allow-list, run-time
 * `setMax`, store errors counted, and stats per route (routes.ts) and per key.
 * See docs/ratelimit.md.
 *
 * This file: the registry of one agent's limiters and the commands over them.
 * options.ts validates a limiter's options, limiter.ts makes its middleware.
 */
import { Revision } from '../revision';
import type { Request } from 'express';
import { ProtocolError, type RateLimitStats } from '../../protocol';
import type { RedisClient } from '../api-types';
import { RouteLensError } from '../errors';
import { type Clock, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import { MemoryCounter } from './algorithms';
import { RedisConnections } from './connections';
import { Limiter, type LimiterHost } from './limiter';
import { type LimiterConfig, type RateLimitMiddleware, type RateLimitOptions, resolveLimiterOptions, validMax } from './options';
import { type ResolveRoute, RouteAttribution } from './routes';
import { LimiterStats } from './stats';
import { type CountingStore, MemoryRateStore, StoreUnavailableError } from './stores';

export type { Algorithm } from './algorithms';
export type { LimitedResponseOptions, RateLimitMiddleware, RateLimitOptions, RateLimitResult, StandardHeaders } from './options';

export interface RateLimits {
  create(options: RateLimitOptions): RateLimitMiddleware;
  list(): RateLimitStats[];
  /** Clears one client's count. Unknown limiter: ProtocolError(ERR_NOT_FOUND); Redis down: ProtocolError(ERR_UNAVAILABLE). */
  resetKey(limiter: string, key: string): Promise<{ reset: boolean }>;
  /** Changes a limiter's max from the next request on. */
  setMax(limiter: string, max: number): RateLimitStats;
  /** True when any figure changed since the previous call. */
  takeChanged(): boolean;
  /** Grows when any figure changes; any number of readers compare it with the value they last saw. */
  revision(): number;
  close(): Promise<void>;
}

export interface RateLimitDeps {
  diag: Diagnostics;
  clock?: Clock;
  redis?: string | RedisClient;
  /** The app's namespace in Redis (agent/namespace.ts): limiter counters default to `<namespace>rl:<name>:`. Default `routelens:`. */
  namespace?: string;
  /** Endpoint id (`GET /users/:id`) or route template for a request no route ran for (see routes.ts). */
  resolveRoute?: ResolveRoute;
}

export function createRateLimits(deps: RateLimitDeps): RateLimits {
  return new RateLimitRegistry(deps);
}

/** Limiters are made at start-up; this many means one is being made per request (a leak). */
const MAX_LIMITERS = 1000;
const CODED_LIBRARY_MESSAGE = /^(ERR|WRN)_ERL_/;

/** One agent's limiters by name, what they share (Redis connections, route attribution, warnings), and the commands over them. */
class RateLimitRegistry implements RateLimits, LimiterHost {
  readonly diag: Diagnostics;
  readonly clock: Clock;
  readonly routes: RouteAttribution;
  readonly libraryLogger = {
    warn: (err: unknown) => this.#libraryMessage(err),
    error: (err: unknown, message?: string) => this.#libraryMessage(err, message),
  };
  readonly #limiters = new Map<string, Limiter>();
  /** Undefined without Redis: limiters count in memory. */
  readonly #redis: RedisConnections | undefined;
  readonly #namespace: string;
  #closed = false;
  readonly #revision = new Revision();
  #forwardedForWarned = false;
  #defaultNames = 0;

  constructor(deps: RateLimitDeps) {
    this.diag = deps.diag;
    this.clock = deps.clock ?? systemClock;
    this.#namespace = deps.namespace ?? 'routelens:';
    this.#redis = deps.redis === undefined ? undefined : new RedisConnections(deps.redis, deps.diag);
    this.routes = new RouteAttribution(deps.resolveRoute, deps.diag, () => this.markChanged());
  }

  get closed(): boolean {
    return this.#closed;
  }

  create(options: RateLimitOptions): RateLimitMiddleware {
    if (this.#closed) throw new RouteLensError('ROUTELENS_ERR_CLOSED', 'rate limits are closed');
    if (this.#limiters.size >= MAX_LIMITERS) {
      throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `more than ${MAX_LIMITERS} rate limiters: create them once at start-up, not per request`);
    }
    const config = resolveLimiterOptions(options, {
      hasRedis: this.#redis !== undefined,
      namespace: this.#namespace,
      defaultName: () => this.#defaultName(),
      isTaken: (name) => this.#limiters.has(name),
    });
    const stats = new LimiterStats();
    const limiter = new Limiter(config, stats, this.#buildStore(config, stats), this);
    this.#limiters.set(config.name, limiter);
    this.#revision.mark(); // a new limiter is news before its first request
    return limiter.middleware;
  }

  list(): RateLimitStats[] {
    this.routes.flush();
    const now = this.clock();
    return [...this.#limiters.values()].map((limiter) => limiter.snapshot(now));
  }

  async resetKey(limiterName: string, key: string): Promise<{ reset: boolean }> {
    const limiter = this.#find(limiterName);
    try {
      const reset = await limiter.store.reset(String(key));
      this.#revision.mark();
      return { reset };
    } catch (err) {
      if (err instanceof StoreUnavailableError) throw new ProtocolError('ERR_UNAVAILABLE', `rate limiter "${limiterName}": ${err.message}`);
      throw err;
    }
  }

  setMax(limiterName: string, max: number): RateLimitStats {
    const limiter = this.#find(limiterName);
    limiter.setMax(validMax(max));
    this.#revision.mark();
    this.routes.flush();
    return limiter.snapshot(this.clock());
  }

  takeChanged(): boolean {
    return this.#revision.taken();
  }

  /** Grows when anything this reports changed; any number of readers compare it with the value they last saw. */
  revision(): number {
    return this.#revision.value();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.routes.close();
    this.#redis?.close();
  }

  // ------------------------------------------------------------ shared with the limiters (LimiterHost)

  markChanged(): void {
    this.#revision.mark();
  }

  checkForwardedFor(req: Request): void {
    if (this.#forwardedForWarned || req.app.get('trust proxy') !== false) return;
    this.#forwardedForWarned = true;
    this.diag.warnOnce(
      'ROUTELENS_WARN_RATE_LIMIT_CONFIG',
      "rate limit: the 'X-Forwarded-For' header is set but the Express 'trust proxy' setting is false (default): every client behind the proxy shares one limit. Set app.set('trust proxy', <hops or addresses>) (express-rate-limit ERR_ERL_UNEXPECTED_X_FORWARDED_FOR)",
      'ERR_ERL_UNEXPECTED_X_FORWARDED_FOR',
    );
  }

  // ------------------------------------------------------------ internals

  /** express-rate-limit's validation messages and errors go to Diagnostics, never the console. */
  #libraryMessage(err: unknown, message?: string): void {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && CODED_LIBRARY_MESSAGE.test(code)) {
      this.diag.warnOnce('ROUTELENS_WARN_RATE_LIMIT_CONFIG', `rate limit: ${(err as Error).message} (express-rate-limit ${code})`, code);
    } else if (err instanceof StoreUnavailableError || (message?.includes('error from store') ?? false)) {
      // Already counted and reported by the store (fail-open path).
    } else {
      this.diag.failure('ratelimit.library', err);
    }
  }

  #defaultName(): string {
    let name: string;
    do name = `limiter-${++this.#defaultNames}`;
    while (this.#limiters.has(name));
    return name;
  }

  #find(name: string): Limiter {
    const limiter = this.#limiters.get(name);
    if (limiter === undefined) throw new ProtocolError('ERR_NOT_FOUND', `no rate limiter named ${JSON.stringify(name.slice(0, 100))}`);
    return limiter;
  }

  #buildStore(config: LimiterConfig, stats: LimiterStats): CountingStore {
    const counter = () => new MemoryCounter(config.algorithm, config.windowMs, config.max, this.clock, config.maxKeys);
    if (config.store === 'memory' || this.#redis === undefined) return new MemoryRateStore(config.prefix, counter());
    const connection = this.#redis.get(config.timeout);
    // Loaded with the first Redis limiter: rate-limiter-flexible stays out of apps without one.
    const { CountingRedisLimiter, InsuranceLimiter, RedisRateStore } = require('./redis-store') as typeof import('./redis-store');
    const insurance = config.onStoreError === 'memory' ? new InsuranceLimiter(counter()) : undefined;
    const onStoreError = (err: Error) => {
      stats.storeErrors++;
      this.#revision.mark();
      this.diag.warnOnce(
        'ROUTELENS_WARN_RATE_LIMIT_STORE',
        `rate limit "${config.name}": Redis failed (${err.message}); ${config.onStoreError === 'memory' ? 'counting in memory' : 'letting requests through'} until it answers again`,
        `ROUTELENS_WARN_RATE_LIMIT_STORE:${config.name}`,
      );
    };
    const limiter = new CountingRedisLimiter(connection, config.algorithm, config.windowMs, config.max, insurance, onStoreError, this.clock);
    return new RedisRateStore(config.prefix, connection, limiter, insurance);
  }
}
