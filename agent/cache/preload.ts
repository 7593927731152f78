/**
 * Predictive preloading: opted-in reads (`predictive: true` per call or per
 * namespace) feed the access model (predict.ts); when it predicts that key B
 * follows the key just read, B is loaded in the background — only when B has a
 * registered loader (`register(pattern, loader)`) and is not fresh in L1
 * already. Bounded three ways: at most `maxInFlight` preloads at once, at most
 * `maxShare` of all loader calls in the current minute, and the model's size.
 *
 * Measured: each preloaded key waits (in a capped list) for a read. A read
 * before the value expires (for a value without ttl: within a minute) is a
 * preload hit; expiry, a failed load or falling off the list first is a
 * wasted load.
 */
import type { CachePreloadStats } from '../../protocol';
import { invalidOption } from '../errors';
import type { Clock } from '../internal';
import type { LRUCache } from 'lru-cache';
import { lruCache } from './lru';
import { compileGlob, type GlobMatcher, validatePattern } from './glob';
import { checkPriority } from './options';
import { AccessModel } from './predict';
import type { KeyLoader, PredictiveOptions, SetOptions } from './types';

const MAX_LOADERS = 100;
const MAX_WAITING = 1000;
/** How long a preloaded value without ttl waits for its read. */
const NO_TTL_HORIZON = 60_000;
const MINUTE = 60_000;

interface Registration {
  match: GlobMatcher;
  loader: KeyLoader;
  options: SetOptions;
}

/** What the preloader needs from the cache. */
export interface PreloadHost {
  clock: Clock;
  /** Fresh in L1 now (nothing to preload). */
  freshInL1(key: string): boolean;
  /** A load of this key is in flight (a preload would join it, not call a loader). */
  loading(key: string): boolean;
  /** Loads the key as getOrSet would (L2 first, then the loader); resolves when stored. */
  load(key: string, loader: () => unknown, options: SetOptions): Promise<unknown>;
  /** The L1 entry's expiry (epoch ms, 0 = never), undefined when it is not in L1. */
  expiresAt(key: string): number | undefined;
  /** The stats changed. */
  touched(): void;
}

export class Preloader {
  private readonly model: AccessModel;
  private readonly loaders: Registration[] = [];
  /** Preloaded keys waiting for a read: until when a read counts (Infinity while loading). */
  private readonly waiting: LRUCache<string, { until: number }>;
  private inFlight = 0;
  private windowStart = 0;
  private loadsInWindow = 0;
  private preloadsInWindow = 0;
  private started = 0;
  private hits = 0;
  private wasted = 0;
  private skipped = 0;

  constructor(
    private readonly o: Required<PredictiveOptions>,
    private readonly host: PreloadHost,
  ) {
    this.model = new AccessModel(o);
    this.waiting = new (lruCache())<string, { until: number }>({
      max: MAX_WAITING,
      dispose: (_, __, reason) => {
        if (reason === 'evict') this.wasted++;
      },
    });
  }

  register(pattern: string, loader: KeyLoader, options: SetOptions): void {
    validatePattern(pattern);
    if (typeof loader !== 'function') throw invalidOption('loader', 'a function', loader);
    if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object', options);
    checkPriority('priority', options.priority);
    if (this.loaders.length >= MAX_LOADERS) throw invalidOption('register', `at most ${MAX_LOADERS} registered loaders`, pattern);
    this.loaders.unshift({ match: compileGlob(pattern), loader, options: { ...options } });
  }

  /** A loader call (any: a miss, a refresh or a preload), for the share bound. */
  loaderCalled(now: number): void {
    this.roll(now);
    this.loadsInWindow++;
  }

  /** A read that served a value (or joined a load) of `key`: settles a waiting preload as a hit. */
  served(key: string, now: number): void {
    if (this.waiting.size === 0) return;
    const w = this.waiting.peek(key);
    if (w === undefined) return;
    this.waiting.delete(key);
    if (now < w.until) this.hits++;
    else this.wasted++;
    this.host.touched();
  }

  /** An opted-in read of `key`: one step of the model, and a preload of the predicted successor when allowed. */
  observe(key: string, now: number): void {
    const next = this.model.observe(key, now);
    if (next !== undefined) this.preload(next, now);
  }

  private preload(key: string, now: number): void {
    if (this.waiting.has(key) || this.host.freshInL1(key) || this.host.loading(key)) return;
    const reg = this.loaders.find((r) => r.match(key));
    this.roll(now);
    // Counted as if it will call the loader: the share bound holds even when L2 answers instead.
    if (reg === undefined || this.inFlight >= this.o.maxInFlight || this.preloadsInWindow + 1 > this.o.maxShare * (this.loadsInWindow + 1)) {
      this.skipped++;
      return;
    }
    this.inFlight++;
    this.started++;
    this.preloadsInWindow++;
    this.waiting.set(key, { until: Infinity });
    const done = (ok: boolean): void => {
      this.inFlight--;
      const w = this.waiting.peek(key);
      if (w !== undefined) {
        const exp = ok ? this.host.expiresAt(key) : undefined;
        if (exp === undefined) {
          // Nothing was stored (a failed load, an undefined value, a namespace that skips L1): nothing to read.
          this.waiting.delete(key);
          this.wasted++;
        } else w.until = exp === 0 ? this.host.clock() + NO_TTL_HORIZON : exp;
      }
      this.host.touched();
    };
    this.host.load(key, () => reg.loader(key), reg.options).then(
      () => done(true),
      () => done(false),
    );
  }

  /** Starts a new minute for the share bound. */
  private roll(now: number): void {
    if (now - this.windowStart < MINUTE) return;
    this.windowStart = now;
    this.loadsInWindow = 0;
    this.preloadsInWindow = 0;
  }

  /** Settles the waiting preloads that expired unread. */
  private sweep(now: number): void {
    const expired: string[] = [];
    for (const [key, w] of this.waiting.entries()) if (now >= w.until) expired.push(key);
    for (const key of expired) this.waiting.delete(key);
    this.wasted += expired.length;
  }

  stats(): CachePreloadStats {
    this.sweep(this.host.clock());
    const settled = this.hits + this.wasted;
    return { started: this.started, hits: this.hits, wasted: this.wasted, hitRate: settled === 0 ? 0 : this.hits / settled, inFlight: this.inFlight, skipped: this.skipped, modelKeys: this.model.size };
  }

  clear(): void {
    this.model.clear();
    this.waiting.clear();
  }
}
