/**
 * The express-rate-limit store over rate-limiter-flexible's RateLimiterRedis (atomic Lua,
 * insurance limiter). Loaded by the first Redis limiter (ratelimit/index.ts).
 *
 * What we add to RateLimiterRedis: millisecond windows (it floors windows to
 * whole seconds and counts non-atomically below one second), the sliding-window
 * and token-bucket algorithms, one Lua script per algorithm sent as one
 * EVALSHA per request (its `customIncrTtlLuaScript` defines every script under
 * one command name, so two limiters with different scripts on one client would
 * overwrite each other), a per-connection budget instead of a timer per command
 * (connections.ts), and store errors counted at the source (its insurance path
 * swallows them).
 */
import type { IncrementResponse } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RateLimiterCompatibleAbstract, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Clock } from '../internal';
import type { Algorithm, MemoryCounter } from './algorithms';
import type { LimiterConnection } from './connections';
import { type CountScript, SCRIPTS, isNoScript } from './scripts';
import { type CountingStore, type Peek, StoreUnavailableError, type Tally, storageKey } from './stores';

// ---------------------------------------------------------------- rate-limiter-flexible adapters

/** The bounded memory counter as a rate-limiter-flexible limiter, so it can be RateLimiterRedis's insuranceLimiter. */
export class InsuranceLimiter extends RateLimiterCompatibleAbstract {
  override readonly keyPrefix = '';
  // Set by RateLimiterInsuredAbstract; we never block or delay.
  override blockDuration = 0;
  override execEvenly = false;

  constructor(readonly counter: MemoryCounter) {
    super();
  }

  override consume(key: string | number, points?: number): Promise<RateLimiterRes> {
    const counter = this.counter;
    const hits = counter.hit(String(key), points);
    const res = new RateLimiterRes(Math.max(counter.max - hits, 0), counter.ms, hits, false);
    return hits > counter.max ? Promise.reject(res) : Promise.resolve(res);
  }

  override delete(key: string | number): Promise<boolean> {
    return Promise.resolve(this.counter.delete(String(key)));
  }

  override penalty(): Promise<RateLimiterRes> {
    return unsupported();
  }
  override reward(): Promise<RateLimiterRes> {
    return unsupported();
  }
  override get(): Promise<RateLimiterRes | null> {
    return unsupported();
  }
  override set(): Promise<RateLimiterRes> {
    return unsupported();
  }
  override block(): Promise<RateLimiterRes> {
    return unsupported();
  }
}

function unsupported(): Promise<never> {
  return Promise.reject(new Error('not supported by the RouteLens insurance limiter'));
}

/** After a Redis call times out, calls are skipped (store error policy applies) for this long. */
export const TIMEOUT_COOLDOWN_MS = 1000;

/**
 * RateLimiterRedis counting with our per-algorithm Lua commands in milliseconds.
 *
 * Adds a breaker for a Redis that accepts but does not answer: after a
 * timeout, calls are skipped for TIMEOUT_COOLDOWN_MS, so during a freeze each
 * request is not held for the whole timeout, and timed-out commands do not
 * pile up in the client's queue (each would still run, and count, when that
 * Redis resumes). While the connection's first attempt is in flight, a call
 * waits for it (bounded, see connections.ts) instead of counting in memory.
 */
export class CountingRedisLimiter extends RateLimiterRedis {
  private readonly script: CountScript;
  private readonly redis: Redis;
  /** The script's arguments as ioredis would write them (it converts numbers on every call). */
  private readonly windowArg: string;
  #maxArg = '';
  #maxArgOf = Number.NaN;
  /** Clock time until which calls are skipped; 0 when closed. */
  private openUntil = 0;
  /** A failed call: resent as EVAL on NOSCRIPT (the refused EVALSHA did not run), else counted and passed on. */
  private readonly failed = (err: unknown, args: Array<string | number>): Promise<[number, number]> => {
    if (isNoScript(err)) {
      args[0] = this.script.lua;
      return this.send('eval', args).then(undefined, this.failedAgain);
    }
    return this.failedAgain(err);
  };
  private readonly failedAgain = (err: unknown): never => {
    const e = err instanceof Error ? err : new Error(String(err));
    if (e.message.includes('timed out')) this.openUntil = this.clock() + TIMEOUT_COOLDOWN_MS;
    this.onStoreError(e);
    throw e;
  };

  constructor(
    private readonly connection: LimiterConnection,
    algorithm: Algorithm,
    windowMs: number,
    max: number,
    insurance: InsuranceLimiter | undefined,
    /** Called once per failed or skipped Redis call (not ready, refused, timed out, cooling down). */
    private readonly onStoreError: (err: Error) => void,
    private readonly clock: Clock,
  ) {
    super({ storeClient: connection.client, points: max, duration: windowMs / 1000, keyPrefix: '', insuranceLimiter: insurance, rejectIfRedisNotReady: true });
    this.redis = connection.client;
    this.script = SCRIPTS[algorithm];
    this.windowArg = String(windowMs);
  }

  /** `points` (the max in force, changed by setMax) as a script argument. */
  private maxArg(): string {
    if (this.points !== this.#maxArgOf) {
      this.#maxArgOf = this.points;
      this.#maxArg = String(this.points);
    }
    return this.#maxArg;
  }

  /** Replaces RateLimiterRedis's upsert; called by its consume() (one request: one point). Resolves to [hits, ms]. */
  _upsert(rlKey: string): Promise<[number, number]> {
    return this.call([this.script.sha, '1', rlKey, this.windowArg, this.maxArg()]);
  }

  /** Counts `points` (limiter.consume). Resolves to [hits, ms]; rejects as _upsert does, without the insurance limiter. */
  count(rlKey: string, points: number): Promise<[number, number]> {
    return this.call([this.script.sha, '1', rlKey, this.windowArg, this.maxArg(), points]);
  }

  /** Counts nothing (limiter.check). Resolves to [what is left now, ms]; rejects as count() does. */
  peek(rlKey: string, points: number): Promise<[number, number]> {
    return this.call([this.script.sha, '1', rlKey, this.windowArg, this.maxArg(), points, 'peek']);
  }

  /** One EVALSHA of the algorithm's script; `args` are its arguments (sha, 1 key, the key, ARGV as in scripts.ts). */
  private call(args: Array<string | number>): Promise<[number, number]> {
    if (this.redis.status !== 'ready') {
      // Settled before it resolves, so the second call never waits again.
      const starting = this.connection.waitForFirst();
      if (starting !== undefined) return starting.then(() => this.call(args));
      return this.skip(`Redis is not ready (${this.redis.status})`);
    }
    if (this.openUntil !== 0) {
      if (this.clock() < this.openUntil) return this.skip('Redis timed out recently; skipped while cooling down');
      this.openUntil = 0;
    }
    return this.send('evalsha', args).then(undefined, (err: unknown) => this.failed(err, args));
  }

  private send(name: 'evalsha' | 'eval', args: Array<string | number>): Promise<[number, number]> {
    const connection = this.connection;
    return connection.send(new connection.Command(name, args)) as Promise<[number, number]>;
  }

  private skip(reason: string): Promise<never> {
    const err = new StoreUnavailableError(reason);
    this.onStoreError(err);
    return Promise.reject(err);
  }
}

/** express-rate-limit store over CountingRedisLimiter (with or without an insurance limiter). */
export class RedisRateStore implements CountingStore {
  readonly localKeys = false;
  private readonly settle = (res: RateLimiterRes): IncrementResponse => ({ totalHits: res.consumedPoints, resetTime: new Date(Date.now() + res.msBeforeNext) });
  private readonly settleRejected = (err: unknown): IncrementResponse => {
    if (err instanceof RateLimiterRes) return this.settle(err);
    // fail-open: express-rate-limit's passOnStoreError lets the request through.
    throw err;
  };

  constructor(
    readonly prefix: string,
    private readonly connection: LimiterConnection,
    readonly limiter: CountingRedisLimiter,
    private readonly insurance: InsuranceLimiter | undefined,
  ) {}

  increment(key: string): Promise<IncrementResponse> {
    return this.limiter.consume(this.prefix + storageKey(key)).then(this.settle, this.settleRejected);
  }

  decrement(): void {
    /* not offered */
  }

  async resetKey(key: string): Promise<void> {
    await this.reset(key);
  }

  /** As the middleware counts: in Redis, else (Redis failed, counted by the limiter) in the insurance limiter or not at all. */
  async take(key: string, points: number): Promise<Tally> {
    const k = this.prefix + storageKey(key);
    try {
      const [hits, ms] = await this.limiter.count(k, points);
      return { hits, ms };
    } catch {
      const counter = this.insurance?.counter;
      if (counter === undefined) return { hits: 0, ms: 0, fallback: 'fail-open' };
      const hits = counter.hit(k, points);
      return { hits, ms: counter.ms, fallback: 'memory' };
    }
  }

  async peek(key: string, points: number): Promise<Peek> {
    const k = this.prefix + storageKey(key);
    try {
      const [remaining, ms] = await this.limiter.peek(k, points);
      return { remaining, ms };
    } catch {
      const counter = this.insurance?.counter;
      if (counter === undefined) return { remaining: this.limiter.points, ms: 0, fallback: 'fail-open' };
      const remaining = counter.peek(k, points);
      return { remaining, ms: counter.ms, fallback: 'memory' };
    }
  }

  async reset(key: string): Promise<boolean> {
    const k = this.prefix + storageKey(key);
    const inMemory = this.insurance?.counter.delete(k) ?? false;
    try {
      const connection = this.connection;
      return ((await connection.send(new connection.Command('del', [k]))) as number) > 0 || inMemory;
    } catch (err) {
      throw new StoreUnavailableError(`Redis did not answer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  setMax(max: number): void {
    this.limiter.points = max;
    if (this.insurance) this.insurance.counter.max = max;
  }
}
