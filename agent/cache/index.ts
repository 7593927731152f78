/**
 * The two-tier cache: L1 in process (lru-cache, bounded by entries and bytes),
 * L2 in Redis (optional, every call bounded, circuit breaker). Without Redis it
 * is a complete in-memory cache. See docs/cache.md for the consistency model,
 * Redis failure behaviour and what each feature costs.
 *
 * This module is the public facade. The data path a request takes:
 * tiers.ts (L1 then L2, writes, peer messages) and loads.ts (single flight,
 * stale-while-revalidate). The editor-facing parts: invalidation.ts (key,
 * pattern and tag sweeps, namespace clears), browse.ts (key listing,
 * inspection), warmers.ts. Counting and events: telemetry.ts.
 */
import type { RedisClient } from '../api-types';
import type { CacheEvent, CacheKeyInfo, CacheStats, InvalidateResult } from '../../protocol';
import { invalidOption } from '../errors';
import { type Clock, type CommandSource, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import { KeyBrowser } from './browse';
import { freshInL1 } from './entry';
import { Invalidations } from './invalidation';
import { Loads } from './loads';
import { checkKey, closedError, type Resolved, resolveOptions } from './options';
import { CacheTelemetry } from './telemetry';
import { Tiers } from './tiers';
import type { Cache, CacheInspection, CacheOptions, GetOrSetOptions, InvalidateOptions, InvalidateTarget, SetOptions } from './types';
import type { EventCursor, EventRead } from './stats';
import { Warmers } from './warmers';

export { validatePattern, compileGlob, escapeGlob } from './glob';
export { createResponseCache, type ResponseCacheOptions } from './response';
export { MAX_KEY_LENGTH } from './options';
export type { Cache, CacheInspection, CacheOptions, GetOrSetOptions, InvalidateOptions, InvalidateTarget, SetOptions, WarmEntry, Warmer } from './types';

export function createCache(options: CacheOptions = {}, deps: { diag?: Diagnostics; clock?: Clock } = {}): Cache {
  return new TwoTierCache(resolveOptions(options), options.redis, deps.diag, deps.clock ?? systemClock);
}

class TwoTierCache implements Cache {
  private readonly telemetry: CacheTelemetry;
  private readonly tiers: Tiers;
  private readonly loads: Loads;
  private readonly invalidations: Invalidations;
  private readonly browser: KeyBrowser;
  private readonly warmers: Warmers;
  /** The stats' revision: bumped by the first read after a change. */
  private revisionCount = 0;
  private takenRevision = 0;

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
    this.warmers = new Warmers(o.warmers, (key, value, options) => this.set(key, value, options), this.tiers, this.telemetry);
    if (o.warmOnStart) {
      for (const name of this.warmers.names()) void this.warm(name).catch((err: unknown) => diag?.failure('cache.warm', err));
    }
  }

  // ------------------------------------------------------------ data path: reads

  get<T = unknown>(key: string): Promise<T | undefined> {
    if (this.tiers.closed) return Promise.reject(closedError());
    const bad = checkKey(key);
    if (bad) return Promise.reject(bad);
    const now = this.clock();
    const e = this.tiers.lru.get(key);
    if (e !== undefined && freshInL1(e, now, this.tiers.tags)) {
      this.telemetry.hit(key, e, 'l1', now);
      return Promise.resolve(e.value as T);
    }
    return this.getSlow<T>(key, now);
  }

  private async getSlow<T>(key: string, now: number): Promise<T | undefined> {
    const found = await this.tiers.lookup(key, now, true);
    if (found !== undefined && !found.stale) {
      this.telemetry.hit(key, found.entry, found.tier, now);
      return found.entry.value as T;
    }
    this.telemetry.miss(key, now);
    return undefined;
  }

  // ------------------------------------------------------------ writes

  async set(key: string, value: unknown, options: SetOptions = {}): Promise<void> {
    this.assertOpen();
    const bad = checkKey(key);
    if (bad) throw bad;
    await this.tiers.store(key, value, options, this.clock(), undefined);
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
    const now = this.clock();
    const e = this.tiers.lru.get(key);
    if (e !== undefined && freshInL1(e, now, this.tiers.tags)) {
      this.telemetry.hit(key, e, 'l1', now);
      return e.value as T;
    }
    const found = await this.tiers.lookup(key, now, true);
    if (found !== undefined) {
      this.telemetry.hit(key, found.entry, found.tier, now);
      if (found.stale) this.loads.refresh(key, loader, options, found);
      return found.entry.value as T;
    }
    this.telemetry.miss(key, now);
    return this.loads.load(key, loader, options, undefined);
  }

  // ------------------------------------------------------------ editor-facing: invalidation, browsing, warmers

  async invalidate(target: InvalidateTarget, options: InvalidateOptions = {}): Promise<InvalidateResult> {
    this.assertOpen();
    return this.invalidations.invalidate(target, options);
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
    return this.telemetry.stats({
      enabled: !this.tiers.closed,
      redis: this.tiers.l2 === undefined ? 'none' : this.tiers.l2.state(),
      l2Errors: this.tiers.l2?.errors ?? 0,
      l1: { entries: this.tiers.lru.size, bytes: this.tiers.lru.calculatedSize, maxEntries: this.o.maxEntries, maxBytes: this.o.maxBytes },
      hits: this.tiers.lru.entries(),
      warmers: this.warmers.names(),
    });
  }

  takeEvents(): { events: CacheEvent[]; dropped: number } {
    return this.telemetry.events.take();
  }

  readEvents(cursor?: EventCursor): EventRead {
    return this.telemetry.events.read(cursor);
  }

  takeChanged(): boolean {
    const revision = this.revision();
    const changed = revision !== this.takenRevision;
    this.takenRevision = revision;
    return changed;
  }

  /** Grows when the stats change; any number of readers compare it with the value they last saw. */
  revision(): number {
    if (this.telemetry.changed) {
      this.telemetry.changed = false;
      this.revisionCount++;
    }
    return this.revisionCount;
  }

  async close(): Promise<void> {
    if (this.tiers.closed) return;
    this.telemetry.changed = true;
    await this.tiers.close();
    this.loads.clear();
  }

  private assertOpen(): void {
    if (this.tiers.closed) throw closedError();
  }
}
