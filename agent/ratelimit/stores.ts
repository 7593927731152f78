/**
 * express-rate-limit `Store`s: what every store answers (CountingStore), and the one over the
 * bounded in-memory counter. The store over Redis is in redis-store.ts, loaded with the first
 * Redis limiter (it brings rate-limiter-flexible, which an app without one never loads).
 */
import { createHash } from 'node:crypto';
import type { Store, IncrementResponse } from 'express-rate-limit';
import type { MemoryCounter } from './algorithms';

/** Keys longer than this are stored as a hash (memory and Redis stay bounded per key). */
export const MAX_STORED_KEY = 200;

export function storageKey(key: string): string {
  return key.length <= MAX_STORED_KEY ? key : `#${createHash('sha256').update(key).digest('base64url')}`;
}

export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

// ---------------------------------------------------------------- express-rate-limit stores

/** How a store answered code (limiter.consume / check) when Redis failed: the limiter's onStoreError policy. */
export type Fallback = 'memory' | 'fail-open';

/** A store's answer to limiter.consume: `hits` and `ms` as in algorithms.ts. */
export interface Tally {
  hits: number;
  ms: number;
  fallback?: Fallback;
}

/** A store's answer to limiter.check: what is left now, and `ms` as in algorithms.ts. */
export interface Peek {
  remaining: number;
  ms: number;
  fallback?: Fallback;
}

export interface CountingStore extends Store {
  /** Removes one client's count; resolves to whether something was there. */
  reset(key: string): Promise<boolean>;
  setMax(max: number): void;
  /** Counts `points` for `key` outside a request. A Redis failure follows onStoreError: never a rejection. */
  take(key: string, points: number): Promise<Tally>;
  /** What is left for `key`, counting nothing. Same failure policy as take(). */
  peek(key: string, points: number): Promise<Peek>;
}

/** express-rate-limit store over the bounded in-memory counter. */
export class MemoryRateStore implements CountingStore {
  readonly localKeys = true;
  constructor(
    readonly prefix: string,
    readonly counter: MemoryCounter,
  ) {}

  increment(key: string): IncrementResponse {
    const counter = this.counter;
    const totalHits = counter.hit(storageKey(key));
    return { totalHits, resetTime: new Date(Date.now() + counter.ms) };
  }

  decrement(): void {
    /* skipFailedRequests / skipSuccessfulRequests are not offered */
  }

  resetKey(key: string): void {
    this.counter.delete(storageKey(key));
  }

  take(key: string, points: number): Promise<Tally> {
    const counter = this.counter;
    const hits = counter.hit(storageKey(key), points);
    return Promise.resolve({ hits, ms: counter.ms });
  }

  peek(key: string, points: number): Promise<Peek> {
    const counter = this.counter;
    const remaining = counter.peek(storageKey(key), points);
    return Promise.resolve({ remaining, ms: counter.ms });
  }

  reset(key: string): Promise<boolean> {
    return Promise.resolve(this.counter.delete(storageKey(key)));
  }

  setMax(max: number): void {
    this.counter.max = max;
  }
}
