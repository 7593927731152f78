/**
 * The two-tier cache: L1 in process (lru-cache, bounded by entries and bytes),
 * L2 in Redis (optional, every call bounded, circuit breaker). Without Redis it
 * is a complete in-memory cache. See docs/cache.md for the consistency model,
 * Redis failure behaviour and what each feature costs.
 *
 * This module is the public facade. The data path a request takes:
 * tiers.ts (L1 then L2, writes, peer messages; L1 per priority in l1.ts,
 * hot-key promotion in hot.ts), batch.ts (getMany/setMany: one MGET or
 * pipeline), loads.ts (single flight, stale-while-revalidate) and, when a
 * read opts in, preload.ts (predictive preloading, its model in predict.ts).
 * The editor-facing parts: invalidation.ts (key, pattern and tag sweeps,
 * namespace clears, routes), browse.ts (key listing, inspection), warmers.ts
 * (on demand, at start, on a schedule). Counting and events: telemetry.ts.
 */
import type { RedisClient } from '../api-types';
import type { CacheEvent, CacheKeyInfo, CacheStats, InvalidateResult } from '../../protocol';
import { invalidOption } from '../errors';
import { type Clock, type CommandSource, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import { Batch } from './batch';
import { KeyBrowser } from './browse';
import { freshInL1 } from './entry';
import { Invalidations } from './invalidation';
import { Loads } from './loads';
import { checkKey, checkPriority, closedError, namespaceOf, type Resolved, resolveOptions } from './options';
import { Preloader } from './preload';
import { routeTag } from './tags';
import { CacheTelemetry } from './telemetry';
import { Tiers } from './tiers';
import type { Cache, CacheEntry, CacheInspection, CacheOptions, GetOptions, GetOrSetOptions, InvalidateOptions, InvalidateTarget, KeyLoader, SetOptions } from './types';
import type { EventCursor, EventRead } from './stats';
import { Warmers } from './warmers';

export { validatePattern, compileGlob, escapeGlob } from './glob';
export { createResponseCache, type ResponseCacheOptions } from './response';
export { MAX_KEY_LENGTH, CACHE_ENV } from './options';
export type {
  Cache,
  CacheEntry,
  CacheInspection,
  CacheOptions,
  GetOptions,
  GetOrSetOptions,
  HotKeyOptions,
  InvalidateOptions,
  InvalidateTarget,
  KeyLoader,
  NamespaceOptions,
  PredictiveOptions,
  Priority,
  ScheduledWarmer,
  SetOptions,
  WarmEntry,
  Warmer,
} from './types';

/** `deps.env`: where the ROUTELENS_CACHE_* overrides are read (default process.env). */
export function createCache(options: CacheOptions = {}, deps: { diag?: Diagnostics; clock?: Clock; env?: NodeJS.ProcessEnv } = {}): Cache {
  return new TwoTierCache(resolveOptions(options, deps.env), options.redis, deps.diag, deps.clock ?? systemClock);
}

const MAX_ROUTE_TEMPLATE = 400;

class TwoTierCache implements Cache {
  private readonly telemetry: CacheTelemetry;
  private readonly tiers: Tiers;
  private readonly loads: Loads;
  private readonly invalidations: Invalidations;
  private readonly browser: KeyBrowser;
  private readonly warmers: Warmers;
  private readonly batch: Batch;
  /** Created with the first predictive namespace or registered loader; undefined costs reads one check. */
  private preloader: Preloader | undefined;
  private readonly predictiveNamespaces: Set<string> | undefined;

  constructor(
    private readonly o: Resolved,
    redis: string | RedisClient | undefined,
    diag: Diagnostics | undefined,
    private readonly clock: Clock,
  ) {
    this.telemetry = new CacheTelemetry(o.maxEvents, redis !== undefined, clock);
    this.tiers = new Tiers(o, redis, this.telemetry, diag, clock);
    this.loads = new Loads(this.tiers, this.telemetry, clock);
    this.invalidations = new Invalidations(this.tiers, this.telemetry, o.instanceId, o.scanBudget, clock);
    this.browser = new KeyBrowser(this.tiers, o.scanBudget, clock);
    this.batch = new Batch(this.tiers, this.telemetry, o.instanceId, clock, (key, now) => this.preloader?.served(key, now));
    const predictive = [...o.namespaces].filter(([, p]) => p.predictive).map(([ns]) => ns);
    this.predictiveNamespaces = predictive.length > 0 ? new Set(predictive) : undefined;
    if (this.predictiveNamespaces !== undefined) this.preloader = this.makePreloader();
    this.warmers = new Warmers(o.warmers, (key, value, options) => this.set(key, value, options), this.tiers, this.telemetry, clock, diag);
    this.warmers.start(o.warmOnStart, o.warmSchedules);
  }

  private makePreloader(): Preloader {
    const p = new Preloader(this.o.predictive, {
      clock: this.clock,
      freshInL1: (key) => {
        const e = this.tiers.lru.peek(key);
        return e !== undefined && freshInL1(e, this.clock(), this.tiers.tags);
      },
      loading: (key) => this.loads.loading(key),
      load: async (key, loader, options) => {
        if (this.tiers.closed) return;
        const found = await this.tiers.lookup(key, this.clock(), false, options.priority);
        if (found !== undefined && !found.stale) return;
        await this.loads.load(key, loader, options, found);
      },
      expiresAt: (key) => this.tiers.lru.peek(key)?.expiresAt,
      touched: () => this.telemetry.touched(),
    });
    this.loads.onLoaderCall = (now) => p.loaderCalled(now);
    return p;
  }

  /** A read for the preloader: `served` settles a waiting preload; an opted-in read is a step of the model. */
  private predictRead(p: Preloader, key: string, now: number, options: GetOptions | undefined, served: boolean): void {
    if (served) p.served(key, now);
    const opted = options?.predictive ?? (this.predictiveNamespaces !== undefined && this.predictiveNamespaces.has(namespaceOf(key)));
    if (opted) p.observe(key, now);
  }

  // ------------------------------------------------------------ data path: reads

  get<T = unknown>(key: string, options?: GetOptions): Promise<T | undefined> {
    if (this.tiers.closed) return Promise.reject(closedError());
    const bad = checkKey(key);
    if (bad) return Promise.reject(bad);
    const now = this.clock();
    const e = this.tiers.lru.get(key);
    if (e !== undefined && freshInL1(e, now, this.tiers.tags)) {
      this.telemetry.hit(key, e, 'l1', now);
      if (this.preloader !== undefined) this.predictRead(this.preloader, key, now, options, true);
      return Promise.resolve(e.value as T);
    }
    return this.getSlow<T>(key, now, options);
  }

  private async getSlow<T>(key: string, now: number, options: GetOptions | undefined): Promise<T | undefined> {
    const found = await this.tiers.lookup(key, now, true);
    const served = found !== undefined && !found.stale;
    if (this.preloader !== undefined) this.predictRead(this.preloader, key, now, options, served);
    if (served) {
      this.telemetry.hit(key, found.entry, found.tier, now);
      return found.entry.value as T;
    }
    this.telemetry.miss(key, now);
    return undefined;
  }

  getMany<T = unknown>(keys: readonly string[]): Promise<Array<T | undefined>> {
    if (this.tiers.closed) return Promise.reject(closedError());
    return this.batch.getMany<T>(keys);
  }

  // ------------------------------------------------------------ writes

  async set(key: string, value: unknown, options: SetOptions = {}): Promise<void> {
    this.assertOpen();
    const bad = checkKey(key);
    if (bad) throw bad;
    await this.tiers.store(key, value, options, this.clock(), undefined);
  }

  async setMany(entries: readonly CacheEntry[]): Promise<void> {
    this.assertOpen();
    await this.batch.setMany(entries);
  }

  async delete(key: string): Promise<boolean> {
    this.assertOpen();
    const bad = checkKey(key);
    if (bad) throw bad;
    const removed = await this.tiers.removeKey(key);
    this.telemetry.deleted(key);
    return removed;
  }

  async has(key: string): Promise<boolean> {
    this.assertOpen();
    const bad = checkKey(key);
    if (bad) throw bad;
    return this.tiers.has(key);
  }

  // ------------------------------------------------------------ getOrSet

  async getOrSet<T>(key: string, loader: () => T | Promise<T>, options: GetOrSetOptions = {}): Promise<T> {
    this.assertOpen();
    const bad = checkKey(key);
    if (bad) throw bad;
    if (typeof loader !== 'function') throw invalidOption('loader', 'a function', loader);
    checkPriority('priority', options.priority);
    const now = this.clock();
    const e = this.tiers.lru.get(key);
    if (e !== undefined && freshInL1(e, now, this.tiers.tags)) {
      this.telemetry.hit(key, e, 'l1', now);
      if (this.preloader !== undefined) this.predictRead(this.preloader, key, now, options, true);
      return e.value as T;
    }
    const found = await this.tiers.lookup(key, now, true, options.priority);
    // A miss that joins a load in flight (a preload's, say) is served by it.
    if (this.preloader !== undefined) this.predictRead(this.preloader, key, now, options, found !== undefined || this.loads.loading(key));
    if (found !== undefined) {
      this.telemetry.hit(key, found.entry, found.tier, now);
      if (found.stale) this.loads.refresh(key, loader, options, found);
      return found.entry.value as T;
    }
    this.telemetry.miss(key, now);
    return this.loads.load(key, loader, options, undefined);
  }

  register(pattern: string, loader: KeyLoader, options: SetOptions = {}): void {
    this.assertOpen();
    this.preloader ??= this.makePreloader();
    this.preloader.register(pattern, loader, options);
  }

  // ------------------------------------------------------------ editor-facing: invalidation, browsing, warmers

  async invalidate(target: InvalidateTarget, options: InvalidateOptions = {}): Promise<InvalidateResult> {
    this.assertOpen();
    return this.invalidations.invalidate(target, options);
  }

  async invalidateRoute(template: string, options: InvalidateOptions = {}): Promise<InvalidateResult> {
    this.assertOpen();
    if (typeof template !== 'string' || template.length === 0 || template.length > MAX_ROUTE_TEMPLATE) {
      throw invalidOption('template', `a route template of 1 to ${MAX_ROUTE_TEMPLATE} characters`, template);
    }
    return this.invalidations.invalidate({ tag: routeTag(template) }, options);
  }

  async clearNamespace(namespace: string, options: { dryRun?: boolean; source?: CommandSource } = {}): Promise<InvalidateResult> {
    this.assertOpen();
    return this.invalidations.clearNamespace(namespace, options);
  }

  async keys(options: { pattern?: string; cursor?: string; limit?: number } = {}): Promise<{ keys: CacheKeyInfo[]; cursor: string | null }> {
    this.assertOpen();
    return this.browser.keys(options);
  }

  async inspect(key: string): Promise<CacheInspection | undefined> {
    this.assertOpen();
    return this.browser.inspect(key);
  }

  async warm(name: string): Promise<{ name: string; loaded: number }> {
    this.assertOpen();
    return this.warmers.warm(name);
  }

  // ------------------------------------------------------------ stats

  stats(): CacheStats {
    const s = this.telemetry.stats({
      enabled: !this.tiers.closed,
      redis: this.tiers.l2 === undefined ? 'none' : this.tiers.l2.state(),
      l2Errors: this.tiers.l2?.errors ?? 0,
      l1: { entries: this.tiers.lru.size, bytes: this.tiers.lru.calculatedSize, maxEntries: this.o.maxEntries, maxBytes: this.o.maxBytes },
      hits: this.tiers.lru.entries(),
      warmers: this.warmers.names(),
    });
    s.warming = this.warmers.stats();
    s.priorities = this.tiers.lru.counts();
    if (this.preloader !== undefined) s.preloads = this.preloader.stats();
    if (this.tiers.hot !== undefined) s.promotions = this.tiers.hot.promotions;
    return s;
  }

  takeEvents(): { events: CacheEvent[]; dropped: number } {
    return this.telemetry.events.take();
  }

  readEvents(cursor?: EventCursor): EventRead {
    return this.telemetry.events.read(cursor);
  }

  takeChanged(): boolean {
    return this.telemetry.revision.taken();
  }

  /** Grows when the stats change; any number of readers compare it with the value they last saw. */
  revision(): number {
    return this.telemetry.revision.value();
  }

  async close(): Promise<void> {
    if (this.tiers.closed) return;
    this.telemetry.revision.mark();
    this.warmers.close();
    await this.tiers.close();
    this.loads.clear();
    this.preloader?.clear();
  }

  private assertOpen(): void {
    if (this.tiers.closed) throw closedError();
  }
}
