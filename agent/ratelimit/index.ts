/**
 * Rate limiting, global and per route, in memory or shared through Redis.
 *
 * Built on express-rate-limit 8 (the middleware: standard `RateLimit` /
 * `RateLimit-Policy` headers of drafts 6–8, legacy `X-RateLimit-*`,
 * `Retry-After`, `ipKeyGenerator`'s IPv6 subnets, its configuration
 * validations, `passOnStoreError`) with our stores (stores.ts): a bounded
 * in-memory counter, and rate-limiter-flexible 11's RateLimiterRedis (atomic
 * Lua, one round trip, an in-memory `insuranceLimiter` when Redis fails).
 *
 * What we add: routing express-rate-limit's console warnings to Diagnostics,
 * a per-request X-Forwarded-For check (its own runs on the first request
 * only), sliding-window and token-bucket algorithms, an allow-list, run-time
 * `setMax`, store errors counted, and stats per route and per key.
 * See docs/ratelimit.md.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type Options as ErlOptions, ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import type { AppRequest, AppResponse, Callback, Middleware, Next, RedisClient } from '../api-types';
import { ProtocolError, type RateLimitStats } from '../../protocol';
import { capturedRoute } from '../express/request';
import * as check from '../check';
import { RouteLensError, invalidOption } from '../errors';
import { type Clock, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import { asIoredis, connectRedis, duplicateRedis } from '../redis';
import { ALGORITHMS, type Algorithm, MemoryCounter } from './algorithms';
import { LimiterStats } from './stats';
import { type CountingStore, CountingRedisLimiter, InsuranceLimiter, MemoryRateStore, RedisRateStore, StoreUnavailableError, defineCountCommands } from './stores';

export type { Algorithm } from './algorithms';

export type StandardHeaders = 'draft-8' | 'draft-7' | 'draft-6';

export interface RateLimitOptions {
  /** Window length (ms). Default 60 000. */
  windowMs?: number;
  /** Requests allowed per key per window (token bucket: bucket size, refilled at `max` per window). Default 100. */
  max?: number;
  /** Unique name: shown in stats and the draft-8 headers, used in Redis keys and commands. Default `limiter-N`. */
  name?: string;
  /** Client key. Default: `req.ip` (honours the app's `trust proxy`), IPv6 addresses grouped by /56 subnet. */
  key?: Callback<[req: AppRequest], string>;
  /** Default 'fixed-window'. */
  algorithm?: Algorithm;
  /** Default 'redis' when the agent has Redis, else 'memory'. */
  store?: 'memory' | 'redis';
  /** When Redis fails or is slower than `timeout`: 'memory' (default) counts in an in-memory insurance limiter; 'fail-open' lets requests through. */
  onStoreError?: 'fail-open' | 'memory';
  /** Requests for which this returns true are not counted nor limited. */
  skip?: Callback<[req: AppRequest], boolean>;
  /** Keys never limited (nor counted). */
  allowList?: string[];
  /** `X-RateLimit-Limit/Remaining/Reset`. Default false. */
  legacyHeaders?: boolean;
  /** IETF draft of the standard headers. Default 'draft-8'. */
  standardHeaders?: StandardHeaders;
  /** Body of a limited response, or a function (req, res) returning it. Default "Too many requests, please try again later." */
  message?: unknown;
  /** Status of a limited response. Default 429. */
  statusCode?: number;
  /** Replaces the default limited response (express-rate-limit's handler signature). */
  handler?: Callback<[req: AppRequest, res: AppResponse, next: Next, options: LimitedResponseOptions], unknown>;
  /** Budget for one Redis call (ms). Default 50. */
  timeout?: number;
  /** Redis key prefix. Default `routelens:rl:<name>:`. */
  prefix?: string;
  /** Keys the in-memory counter (store or insurance) holds before evicting the oldest. Default 10 000. */
  maxKeys?: number;
}

/** What a custom `handler` is told about the limiter that refused the request (express-rate-limit's options object). */
export interface LimitedResponseOptions {
  statusCode: number;
  message: unknown;
  windowMs: number;
}

export type RateLimitMiddleware = Middleware & { readonly limiterName: string };

export interface RateLimits {
  create(options: RateLimitOptions): RateLimitMiddleware;
  list(): RateLimitStats[];
  /** Clears one client's count. Unknown limiter: ProtocolError(ERR_NOT_FOUND); Redis down: ProtocolError(ERR_UNAVAILABLE). */
  resetKey(limiter: string, key: string): Promise<{ reset: boolean }>;
  /** Changes a limiter's max from the next request on. */
  setMax(limiter: string, max: number): RateLimitStats;
  /** True when any figure changed since the previous call. */
  takeChanged(): boolean;
  close(): Promise<void>;
}

export interface RateLimitDeps {
  diag: Diagnostics;
  clock?: Clock;
  redis?: string | RedisClient;
  /** Endpoint id (`GET /users/:id`) for a request the router has not matched yet. */
  resolveRoute?: (method: string, path: string) => string | undefined;
}

const DEFAULT_MESSAGE = 'Too many requests, please try again later.';
/** Limiters are made at start-up; this many means one is being made per request (a leak). */
const MAX_LIMITERS = 1000;
const NAME_RE = /^[A-Za-z0-9._:-]{1,64}$/;
const KNOWN_OPTIONS = [
  'windowMs', 'max', 'name', 'key', 'algorithm', 'store', 'onStoreError', 'skip', 'allowList', 'legacyHeaders',
  'standardHeaders', 'message', 'statusCode', 'handler', 'timeout', 'prefix', 'maxKeys',
] as const satisfies ReadonlyArray<keyof RateLimitOptions>;

interface Resolved {
  name: string;
  windowMs: number;
  max: number;
  algorithm: Algorithm;
  store: 'memory' | 'redis';
  onStoreError: 'fail-open' | 'memory';
  key: ((req: Request) => string) | undefined;
  skip: ((req: Request) => boolean) | undefined;
  allowList: Set<string> | undefined;
  legacyHeaders: boolean;
  standardHeaders: StandardHeaders;
  message: unknown;
  statusCode: number;
  handler: RateLimitOptions['handler'];
  timeout: number;
  prefix: string;
  maxKeys: number;
}

const int = (o: check.Fields, name: string, def: number, min: number, max: number) => check.number(o, name, def, { min, max, integer: true });
const { oneOf, fn, boolean: bool } = check;

function resolveOptions(options: unknown, hasRedis: boolean, defaultName: () => string, taken: (name: string) => boolean): Resolved {
  const o = check.object(options ?? {}, 'rateLimit options');
  check.knownFields(o, KNOWN_OPTIONS, 'rateLimit');

  let name: string;
  if (o.name === undefined) name = defaultName();
  else if (typeof o.name !== 'string' || !NAME_RE.test(o.name)) throw invalidOption('name', '1 to 64 letters, digits, ".", "_", ":" or "-"', o.name);
  else name = o.name;
  if (taken(name)) throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `option "name": a rate limiter named "${name}" already exists`);

  const store = oneOf(o, 'store', ['memory', 'redis'] as const, hasRedis ? 'redis' : 'memory');
  if (store === 'redis' && !hasRedis) throw invalidOption('store', "'memory' when the agent has no Redis", store);

  let allowList: Set<string> | undefined;
  if (o.allowList !== undefined) {
    if (!Array.isArray(o.allowList) || o.allowList.length > 10_000 || !o.allowList.every((k) => typeof k === 'string')) {
      throw invalidOption('allowList', 'an array of at most 10 000 strings', o.allowList);
    }
    if (o.allowList.length > 0) allowList = new Set(o.allowList as string[]);
  }

  let prefix = `routelens:rl:${name}:`;
  if (o.prefix !== undefined) {
    if (typeof o.prefix !== 'string' || o.prefix.length < 1 || o.prefix.length > 200) throw invalidOption('prefix', 'a string of 1 to 200 characters', o.prefix);
    prefix = o.prefix;
  }

  return {
    name,
    windowMs: int(o, 'windowMs', 60_000, 1, 2 ** 31 - 1),
    max: int(o, 'max', 100, 0, 1e9),
    algorithm: oneOf(o, 'algorithm', ALGORITHMS, 'fixed-window'),
    store,
    onStoreError: oneOf(o, 'onStoreError', ['fail-open', 'memory'] as const, 'memory'),
    key: fn(o, 'key'),
    skip: fn(o, 'skip'),
    allowList,
    legacyHeaders: bool(o, 'legacyHeaders', false),
    standardHeaders: oneOf(o, 'standardHeaders', ['draft-8', 'draft-7', 'draft-6'] as const, 'draft-8'),
    message: o.message === undefined ? DEFAULT_MESSAGE : o.message,
    statusCode: int(o, 'statusCode', 429, 400, 599),
    handler: fn(o, 'handler'),
    timeout: int(o, 'timeout', 50, 1, 60_000),
    prefix,
    maxKeys: int(o, 'maxKeys', 10_000, 1, 10_000_000),
  };
}

interface Limiter {
  readonly config: Resolved;
  readonly stats: LimiterStats;
  readonly store: CountingStore;
  max: number;
}

type LimitedRequest = Request & { rateLimit?: { key?: string } };

export function createRateLimits(deps: RateLimitDeps): RateLimits {
  const { diag, resolveRoute } = deps;
  const clock = deps.clock ?? systemClock;
  const limiters = new Map<string, Limiter>();
  const connections = new Map<number, Redis>();
  let changed = false;
  let closed = false;
  let xffWarned = false;
  let seq = 0;

  /** express-rate-limit's validation messages and errors go to Diagnostics, never the console. */
  const erlLogger = {
    warn: (err: unknown) => routeLibraryMessage(err),
    error: (err: unknown, message?: string) => routeLibraryMessage(err, message),
  };
  function routeLibraryMessage(err: unknown, message?: string): void {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && /^(ERR|WRN)_ERL_/.test(code)) {
      diag.warnOnce('ROUTELENS_WARN_RATE_LIMIT_CONFIG', `rate limit: ${(err as Error).message} (express-rate-limit ${code})`, code);
    } else if (err instanceof StoreUnavailableError || (message?.includes('error from store') ?? false)) {
      // Already counted and reported by the store (fail-open path).
    } else {
      diag.failure('ratelimit.library', err);
    }
  }

  function redisConnection(timeout: number): Redis {
    let c = connections.get(timeout);
    if (c === undefined) {
      const onError = (err: Error) => diag.warnOnce('ROUTELENS_WARN_RATE_LIMIT_REDIS', `rate limit: Redis connection error (${err.message}); limiters follow their onStoreError policy until it is back`);
      const opts = { commandTimeout: timeout, connectionName: 'routelens-ratelimit' };
      const redis = deps.redis;
      if (redis === undefined) throw new Error('unreachable: no Redis');
      c = typeof redis === 'string' ? connectRedis(redis, opts, onError) : duplicateRedis(asIoredis(redis), opts, onError);
      defineCountCommands(c);
      connections.set(timeout, c);
    }
    return c;
  }

  function routeOf(req: Request): string {
    // Route capture marks the request once a route matched (a limiter inside a route's chain).
    const captured = capturedRoute(req);
    if (captured !== undefined) return `${req.method} ${captured}`;
    if (resolveRoute !== undefined) {
      try {
        const r = resolveRoute(req.method, req.path);
        if (r !== undefined) return r.startsWith('/') ? `${req.method} ${r}` : r;
      } catch (err) {
        diag.failure('ratelimit.resolveRoute', err);
      }
    }
    return `${req.method} (unmatched)`;
  }

  function checkForwardedFor(req: Request): void {
    if (req.app.get('trust proxy') === false) {
      xffWarned = true;
      diag.warnOnce(
        'ROUTELENS_WARN_RATE_LIMIT_CONFIG',
        "rate limit: the 'X-Forwarded-For' header is set but the Express 'trust proxy' setting is false (default): every client behind the proxy shares one limit. Set app.set('trust proxy', <hops or addresses>) (express-rate-limit ERR_ERL_UNEXPECTED_X_FORWARDED_FOR)",
        'ERR_ERL_UNEXPECTED_X_FORWARDED_FOR',
      );
    }
  }

  function buildStore(c: Resolved, lim: { stats: LimiterStats }): CountingStore {
    const counter = () => new MemoryCounter(c.algorithm, c.windowMs, c.max, clock, c.maxKeys);
    if (c.store === 'memory') return new MemoryRateStore(c.prefix, counter());
    const redis = redisConnection(c.timeout);
    const insurance = c.onStoreError === 'memory' ? new InsuranceLimiter(counter()) : undefined;
    const onStoreError = (err: Error) => {
      lim.stats.storeErrors++;
      changed = true;
      diag.warnOnce(
        'ROUTELENS_WARN_RATE_LIMIT_STORE',
        `rate limit "${c.name}": Redis failed (${err.message}); ${c.onStoreError === 'memory' ? 'counting in memory' : 'letting requests through'} until it answers again`,
        `ROUTELENS_WARN_RATE_LIMIT_STORE:${c.name}`,
      );
    };
    return new RedisRateStore(c.prefix, redis, new CountingRedisLimiter(redis, c.algorithm, c.windowMs, c.max, insurance, onStoreError, clock), insurance);
  }

  function create(options: RateLimitOptions): RateLimitMiddleware {
    if (closed) throw new RouteLensError('ROUTELENS_ERR_CLOSED', 'rate limits are closed');
    if (limiters.size >= MAX_LIMITERS) {
      throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `more than ${MAX_LIMITERS} rate limiters: create them once at start-up, not per request`);
    }
    const c = resolveOptions(
      options,
      deps.redis !== undefined,
      () => {
        let n: string;
        do n = `limiter-${++seq}`;
        while (limiters.has(n));
        return n;
      },
      (n) => limiters.has(n),
    );
    const stats = new LimiterStats();
    const store = buildStore(c, { stats });
    const lim: Limiter = { config: c, stats, store, max: c.max };
    limiters.set(c.name, lim);

    // Bookkeeping never reaches the response: a failure here is counted, the request goes on.
    const onLimited = (req: LimitedRequest) => {
      try {
        lim.stats.recordLimited(clock(), routeOf(req), req.rateLimit?.key ?? '');
        changed = true;
      } catch (err) {
        diag.failure('ratelimit.stats', err);
      }
    };
    const onAllowed = (req: Request) => {
      try {
        stats.recordAllowed(clock(), routeOf(req));
        changed = true;
      } catch (err) {
        diag.failure('ratelimit.stats', err);
      }
    };
    const { message, statusCode } = c;
    const userHandler = c.handler;
    const handler: ErlOptions['handler'] = userHandler
      ? (req, res, next, used) => {
          onLimited(req);
          return userHandler(req, res, next, used);
        }
      : async (req, res) => {
          onLimited(req);
          res.status(statusCode);
          const body: unknown = typeof message === 'function' ? await (message as (q: Request, r: Response) => unknown)(req, res) : message;
          if (!res.writableEnded) res.send(body);
        };

    // A user key function that throws falls back to the client IP: limiting goes on and the app never sees the error.
    const userKey = c.key;
    if (userKey !== undefined) {
      // express-rate-limit's own check cannot see through our wrapper: run it on the user's function.
      const src = userKey.toString();
      if ((src.includes('req.ip') || src.includes('request.ip')) && !src.includes('ipKeyGenerator')) {
        diag.warnOnce('ROUTELENS_WARN_RATE_LIMIT_CONFIG', `rate limit "${c.name}": the key function appears to use the request IP without ipKeyGenerator(); IPv6 clients can bypass the limit by changing addresses (express-rate-limit ERR_ERL_KEY_GEN_IPV6)`, 'ERR_ERL_KEY_GEN_IPV6');
      }
    }
    /** The key the allow-list check computed, so a user key function runs once per request. */
    const stashedKey = Symbol(`routelens.rateLimitKey.${c.name}`);
    type StashedRequest = Request & { [stashedKey]?: string };
    const safeUserKey = userKey
      ? (req: Request): string => {
          try {
            const k = userKey(req);
            return typeof k === 'string' ? k : String(k);
          } catch (err) {
            diag.failure('ratelimit.key', err);
            return ipKeyGenerator(req.ip ?? '');
          }
        }
      : undefined;
    const keyOf = safeUserKey ?? ((req: Request) => ipKeyGenerator(req.ip ?? ''));

    const erl = rateLimit({
      windowMs: c.windowMs,
      limit: () => lim.max,
      standardHeaders: c.standardHeaders,
      legacyHeaders: c.legacyHeaders,
      identifier: c.name,
      statusCode,
      message,
      store,
      passOnStoreError: true,
      logger: erlLogger,
      // Our own per-request X-Forwarded-For check replaces its first-request-only one; max 0 blocking everything is intended.
      validate: { xForwardedForHeader: false, limit: false },
      keyGenerator: safeUserKey ? (req: Request) => (req as StashedRequest)[stashedKey] ?? safeUserKey(req) : undefined,
      handler,
    });

    const userSkip = c.skip;
    const skip = userSkip
      ? (req: Request): boolean => {
          try {
            return userSkip(req) === true;
          } catch (err) {
            diag.failure('ratelimit.skip', err);
            return false;
          }
        }
      : undefined;
    const allow = c.allowList;
    const checkXff = userKey === undefined;

    const middleware = (req: Request, res: Response, next: NextFunction): void => {
      if (closed) {
        next();
        return;
      }
      if (checkXff && !xffWarned && req.headers['x-forwarded-for'] !== undefined) checkForwardedFor(req);
      if (skip !== undefined && skip(req)) {
        next();
        return;
      }
      if (allow !== undefined) {
        const k = keyOf(req);
        if (allow.has(k)) {
          next();
          return;
        }
        if (safeUserKey !== undefined) (req as StashedRequest)[stashedKey] = k;
      }
      void erl(req, res, (err?: unknown) => {
        if (err === undefined) onAllowed(req);
        next(err);
      });
    };
    return Object.assign(middleware as unknown as Middleware, { limiterName: c.name });
  }

  function find(name: string): Limiter {
    const lim = limiters.get(name);
    if (lim === undefined) throw new ProtocolError('ERR_NOT_FOUND', `no rate limiter named ${JSON.stringify(name.slice(0, 100))}`);
    return lim;
  }

  function statsOf(lim: Limiter): RateLimitStats {
    const c = lim.config;
    return lim.stats.snapshot(clock(), { name: c.name, algorithm: c.algorithm, windowMs: c.windowMs, max: lim.max, store: c.store, onStoreError: c.onStoreError });
  }

  return {
    create,
    list: () => [...limiters.values()].map(statsOf),
    async resetKey(limiter, key) {
      const lim = find(limiter);
      try {
        const reset = await lim.store.reset(String(key));
        changed = true;
        return { reset };
      } catch (err) {
        if (err instanceof StoreUnavailableError) throw new ProtocolError('ERR_UNAVAILABLE', `rate limiter "${limiter}": ${err.message}`);
        throw err;
      }
    },
    setMax(limiter, max) {
      const lim = find(limiter);
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 0 || max > 1e9) throw invalidOption('max', 'an integer from 0 to 1000000000', max);
      lim.max = max;
      lim.store.setMax(max);
      changed = true;
      return statsOf(lim);
    },
    takeChanged() {
      const c = changed;
      changed = false;
      return c;
    },
    async close() {
      if (closed) return;
      closed = true;
      const conns = [...connections.values()];
      connections.clear();
      for (const conn of conns) conn.disconnect();
    },
  };
}
