/**
 * One rate limiter: express-rate-limit's middleware over one of our stores,
 * wrapped with what we add per request (skip, allow-list, a key function that
 * never throws into the app, the X-Forwarded-For check, stats). Everything a
 * request needs is decided here, when the limiter is made.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Options as LibraryOptions } from 'express-rate-limit';
import type { RateLimitStats } from '../../protocol';
import type { Middleware } from '../api-types';
import type { Clock } from '../internal';
import type { Diagnostics } from '../log';
import { SPAN_KIND } from '../spans/express';
import { codeMethods } from './code';
import type { LimiterConfig, RateLimitMiddleware } from './options';
import type { RouteAttribution } from './routes';
import type { LimiterStats } from './stats';
import type { CountingStore } from './stores';

/** What a limiter shares with the other limiters of its registry. */
export interface LimiterHost {
  readonly diag: Diagnostics;
  readonly clock: Clock;
  readonly routes: RouteAttribution;
  /** Where express-rate-limit's warnings and errors go (never the console). */
  readonly libraryLogger: LibraryOptions['logger'];
  /** True once the registry is closed: its limiters pass every request on. */
  readonly closed: boolean;
  /** A figure a snapshot shows moved. */
  markChanged(): void;
  /** Warns (once per registry) when X-Forwarded-For arrives while `trust proxy` is off. */
  checkForwardedFor(req: Request): void;
}

type LimitedRequest = Request & { rateLimit?: { key?: string } };

export class Limiter {
  readonly middleware: RateLimitMiddleware;
  /** The max in force (setMax changes it from the next request on). */
  #max: number;

  constructor(
    readonly config: LimiterConfig,
    readonly stats: LimiterStats,
    readonly store: CountingStore,
    private readonly host: LimiterHost,
  ) {
    this.#max = config.max;
    this.middleware = Object.assign(this.#buildMiddleware() as unknown as Middleware, { limiterName: config.name }, codeMethods(this, host));
    Object.defineProperty(this.middleware, SPAN_KIND, { value: { kind: 'ratelimit', name: `ratelimit ${config.name}` } });
  }

  get max(): number {
    return this.#max;
  }

  setMax(max: number): void {
    this.#max = max;
    this.store.setMax(max);
  }

  snapshot(now: number): RateLimitStats {
    const { name, algorithm, windowMs, store, onStoreError } = this.config;
    return this.stats.snapshot(now, { name, algorithm, windowMs, max: this.#max, store, onStoreError });
  }

  #buildMiddleware(): (req: Request, res: Response, next: NextFunction) => void {
    const host = this.host;
    const { skip, allowList } = this.config;
    const userKey = this.#userKey();
    const keyOf = userKey ?? ipKey;
    /** The key the allow-list check computed, so a user key function runs once per request. */
    const stashedKey = Symbol(`routelens.rateLimitKey.${this.config.name}`);
    type StashedRequest = Request & { [stashedKey]?: string };
    const library = expressRateLimit().rateLimit({
      windowMs: this.config.windowMs,
      limit: () => this.#max,
      standardHeaders: this.config.standardHeaders,
      legacyHeaders: this.config.legacyHeaders,
      identifier: this.config.name,
      statusCode: this.config.statusCode,
      message: this.config.message,
      store: this.store,
      passOnStoreError: true,
      logger: host.libraryLogger,
      // Our own per-request X-Forwarded-For check replaces its first-request-only one; max 0 blocking everything is intended.
      validate: { xForwardedForHeader: false, limit: false },
      keyGenerator: userKey ? (req: Request) => (req as StashedRequest)[stashedKey] ?? userKey(req) : undefined,
      handler: this.#limitedHandler(),
    });
    const skipped = skip === undefined ? undefined : this.#guardedSkip(skip);
    // A user key function may read X-Forwarded-For itself: the warning is for the default (IP) key only.
    const checkForwardedFor = userKey === undefined;
    const middleware = (req: Request, res: Response, next: NextFunction): void => {
      if (host.closed) {
        next();
        return;
      }
      if (checkForwardedFor && req.headers['x-forwarded-for'] !== undefined) host.checkForwardedFor(req);
      if (skipped !== undefined && skipped(req)) {
        next();
        return;
      }
      if (allowList !== undefined) {
        const key = keyOf(req);
        if (allowList.has(key)) {
          next();
          return;
        }
        if (userKey !== undefined) (req as StashedRequest)[stashedKey] = key;
      }
      void library(req, res, (err?: unknown) => {
        if (err === undefined) this.#onAllowed(req, res);
        next(err);
      });
    };
    return middleware;
  }

  /** The user's key function, never throwing: on a failure the client IP is used and the failure counted. */
  #userKey(): ((req: Request) => string) | undefined {
    const userKey = this.config.key;
    if (userKey === undefined) return undefined;
    // express-rate-limit's own check cannot see through our wrapper: run it on the user's function.
    const source = userKey.toString();
    if ((source.includes('req.ip') || source.includes('request.ip')) && !source.includes('ipKeyGenerator')) {
      this.host.diag.warnOnce(
        'ROUTELENS_WARN_RATE_LIMIT_CONFIG',
        `rate limit "${this.config.name}": the key function appears to use the request IP without ipKeyGenerator(); IPv6 clients can bypass the limit by changing addresses (express-rate-limit ERR_ERL_KEY_GEN_IPV6)`,
        'ERR_ERL_KEY_GEN_IPV6',
      );
    }
    const diag = this.host.diag;
    return (req: Request): string => {
      try {
        const key = userKey(req);
        return typeof key === 'string' ? key : String(key);
      } catch (err) {
        diag.failure('ratelimit.key', err);
        return ipKey(req);
      }
    };
  }

  /** The user's skip function, never throwing: a failure counts as "do not skip". */
  #guardedSkip(skip: NonNullable<LimiterConfig['skip']>): (req: Request) => boolean {
    const diag = this.host.diag;
    return (req) => {
      try {
        return skip(req) === true;
      } catch (err) {
        diag.failure('ratelimit.skip', err);
        return false;
      }
    };
  }

  /** The response to a refused request: the user's handler, else the status and message; counted either way. */
  #limitedHandler(): LibraryOptions['handler'] {
    const userHandler = this.config.handler;
    if (userHandler !== undefined) {
      return (req, res, next, used) => {
        this.#onLimited(req);
        return userHandler(req, res, next, used);
      };
    }
    const { message, statusCode } = this.config;
    return async (req, res) => {
      this.#onLimited(req);
      res.status(statusCode);
      const body: unknown = typeof message === 'function' ? await (message as (req: Request, res: Response) => unknown)(req, res) : message;
      if (!res.writableEnded) res.send(body);
    };
  }

  // Bookkeeping never reaches the response: a failure here is counted, the request goes on.

  #onAllowed(req: Request, res: Response): void {
    const host = this.host;
    try {
      const route = host.routes.matched(req);
      this.stats.recordAllowed(host.clock(), route);
      if (route === undefined) host.routes.attributeOnFinish(req, res, this.stats);
      host.markChanged();
    } catch (err) {
      host.diag.failure('ratelimit.stats', err);
    }
  }

  #onLimited(req: LimitedRequest): void {
    const host = this.host;
    try {
      this.stats.recordLimited(host.clock(), host.routes.routeOf(req), req.rateLimit?.key ?? '');
      host.markChanged();
    } catch (err) {
      host.diag.failure('ratelimit.stats', err);
    }
  }
}

let erl: typeof import('express-rate-limit') | undefined;
/** express-rate-limit, loaded by the first limiter: an app without one never loads it (nor its IP library). */
function expressRateLimit(): typeof import('express-rate-limit') {
  return (erl ??= require('express-rate-limit') as typeof import('express-rate-limit'));
}

function ipKey(req: Request): string {
  return erl!.ipKeyGenerator(req.ip ?? '');
}
