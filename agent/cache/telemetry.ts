/**
 * What the cache counts and reports: hits and misses per tier, namespace,
 * route and minute, writes, evictions, loads, invalidations, and the bounded
 * event batch. Every recorder marks the stats changed; events are built only
 * while the batch has room. `stats()` assembles CacheStats from these counts
 * and a view of L1 and L2 the caller passes in.
 */
import { Revision } from '../revision';
import type { CacheEvent, CacheStats, CacheTier, RedisState } from '../../protocol';
import { currentContext, type RequestContext } from '../context';
import { cacheMark } from '../spans/cache';
import type { Clock } from '../internal';
import { truncate } from '../text';
import { namespaceOf } from './options';
import { CappedCounts, type Counts, EventBatch, HitWindow, hitCounts, type NamespaceCounts } from './stats';

const MAX_NAMESPACES = 100;
const MAX_ROUTES = 200;
const HOT_KEYS = 20;

interface RouteCounts extends Counts {
  route: string;
}

type Invalidation = NonNullable<CacheEvent['invalidation']>;

/** What stats() reads from the tiers at the moment it is called. */
export interface TierView {
  enabled: boolean;
  redis: RedisState;
  l2Errors: number;
  l1: { entries: number; bytes: number; maxEntries: number; maxBytes: number };
  /** L1's entries, for the hottest keys (each entry counts its own hits). */
  hits: Iterable<[key: string, entry: { hits: number }]>;
  warmers: string[];
}

export class CacheTelemetry {
  readonly events: EventBatch;
  /** Moves when a figure moved (the change feed reads it). */
  readonly revision = new Revision();
  private readonly namespaces = new CappedCounts<NamespaceCounts>(MAX_NAMESPACES, (namespace) => ({ namespace, hits: 0, misses: 0, entries: 0 }));
  private readonly routes = new CappedCounts<RouteCounts>(MAX_ROUTES, (route) => ({ route, hits: 0, misses: 0 }));
  private readonly routeOf = new WeakMap<RequestContext, { template: string; counts: RouteCounts }>();
  private readonly window = new HitWindow();
  private readonly l1Counts: Counts = { hits: 0, misses: 0 };
  private readonly l2Counts: Counts = { hits: 0, misses: 0 };
  private readonly overall: Counts = { hits: 0, misses: 0 };
  private sets = 0;
  private deletes = 0;
  private evictions = 0;
  private expirations = 0;
  private invalidations = 0;
  private readonly loads = { count: 0, errors: 0, total: 0, max: 0 };

  constructor(
    maxEvents: number,
    /** With an L2, a miss is counted there too. */
    private readonly hasL2: boolean,
    private readonly clock: Clock,
  ) {
    this.events = new EventBatch(maxEvents);
    this.revision.mark(); // a new cache's stats are news
  }

  /** The counts of a namespace (entries hold theirs, so L1 can keep `entries` current). */
  namespace(name: string): NamespaceCounts {
    return this.namespaces.get(name);
  }

  /** The route counts of the request being handled (one WeakMap lookup; the id string is built once per request). */
  route(): RouteCounts | undefined {
    const ctx = currentContext();
    if (ctx === undefined || ctx.route === undefined) return undefined;
    let r = this.routeOf.get(ctx);
    if (r === undefined || r.template !== ctx.route) {
      r = { template: ctx.route, counts: this.routes.get(`${ctx.method} ${ctx.route}`) };
      this.routeOf.set(ctx, r);
    }
    return r.counts;
  }

  hit(key: string, e: { ns: NamespaceCounts; hits: number }, tier: CacheTier, now: number): void {
    this.revision.mark();
    cacheMark(tier === 'l1' ? 'l1 hit' : 'l2 hit', key);
    this.overall.hits++;
    if (tier === 'l1') this.l1Counts.hits++;
    else {
      this.l1Counts.misses++;
      this.l2Counts.hits++;
    }
    e.ns.hits++;
    e.hits++;
    this.window.hit(now);
    const route = this.route();
    if (route !== undefined) route.hits++;
    if (this.events.room()) this.events.events.push({ kind: 'hit', time: now, key, namespace: e.ns.namespace, tier, route: route?.route });
  }

  miss(key: string, now: number): void {
    this.revision.mark();
    cacheMark('miss', key);
    this.overall.misses++;
    this.l1Counts.misses++;
    if (this.hasL2) this.l2Counts.misses++;
    const ns = this.namespaces.get(namespaceOf(key));
    ns.misses++;
    this.window.miss(now);
    const route = this.route();
    if (route !== undefined) route.misses++;
    if (this.events.room()) this.events.events.push({ kind: 'miss', time: now, key, namespace: ns.namespace, route: route?.route });
  }

  stored(key: string, namespace: string, now: number): void {
    this.sets++;
    this.revision.mark();
    if (this.events.room()) this.events.events.push({ kind: 'set', time: now, key, namespace, route: this.route()?.route });
  }

  deleted(key: string): void {
    this.deletes++;
    this.revision.mark();
    if (this.events.room()) this.events.events.push({ kind: 'delete', time: this.clock(), key, namespace: namespaceOf(key), route: this.route()?.route });
  }

  /** lru-cache evicted an L1 entry for room. */
  evicted(key: string, namespace: string): void {
    this.evictions++;
    this.revision.mark();
    if (this.events.room()) this.events.events.push({ kind: 'eviction', time: this.clock(), key, namespace, tier: 'l1' });
  }

  /** An L1 entry was found past its grace and dropped. */
  expired(key: string, namespace: string, now: number): void {
    this.expirations++;
    this.revision.mark();
    if (this.events.room()) this.events.events.push({ kind: 'expiry', time: now, key, namespace, tier: 'l1' });
  }

  /** A loader resolved after `duration` ms; `route` is the request that started it. */
  loaded(key: string, duration: number, route: string | undefined): void {
    this.loads.count++;
    this.loads.total += duration;
    if (duration > this.loads.max) this.loads.max = duration;
    this.revision.mark();
    if (this.events.room()) this.events.events.push({ kind: 'load', time: this.clock(), key, namespace: namespaceOf(key), duration, route });
  }

  loadFailed(key: string, message: string): void {
    this.loads.errors++;
    this.revision.mark();
    this.error(`loader failed: ${message}`, key);
  }

  invalidated(by: Invalidation['by'], target: string, source: Invalidation['source'], removed: number): void {
    this.invalidations++;
    this.revision.mark();
    if (this.events.room()) this.events.events.push({ kind: 'invalidation', time: this.clock(), invalidation: { by, target, source, removed } });
  }

  /** A figure kept outside these counters moved (a warmer run, a preload's outcome). */
  touched(): void {
    this.revision.mark();
  }

  connection(state: RedisState): void {
    this.revision.mark();
    if (this.events.room()) this.events.events.push({ kind: 'connection', time: this.clock(), state });
  }

  error(message: string, key: string | undefined): void {
    this.revision.mark();
    if (this.events.room()) this.events.events.push({ kind: 'error', time: this.clock(), key, message: truncate(message, 500, '') });
  }

  stats(view: TierView): CacheStats {
    const now = this.clock();
    const loadsAvg = this.loads.count === 0 ? 0 : this.loads.total / this.loads.count;
    return {
      enabled: view.enabled,
      redis: view.redis,
      l1: { ...hitCounts(this.l1Counts), ...view.l1 },
      l2: { ...hitCounts(this.l2Counts), errors: view.l2Errors },
      overall: hitCounts(this.overall),
      sets: this.sets,
      deletes: this.deletes,
      evictions: this.evictions,
      expirations: this.expirations,
      invalidations: this.invalidations,
      loads: { count: this.loads.count, errors: this.loads.errors, avg: loadsAvg, max: this.loads.max },
      window: this.window.counts(now),
      namespaces: this.namespaces.values().map((n) => ({ namespace: n.namespace, entries: n.entries, ...hitCounts(n) })),
      routes: this.routes.values().map((r) => ({ route: r.route, ...hitCounts(r) })),
      hotKeys: hottest(view.hits),
      warmers: view.warmers,
    };
  }
}

/** The HOT_KEYS entries with the most hits, most first (one pass, a small sorted array). */
function hottest(entries: Iterable<[string, { hits: number }]>): Array<{ key: string; hits: number }> {
  const hot: Array<{ key: string; hits: number }> = [];
  for (const [key, e] of entries) {
    if (e.hits === 0) continue;
    if (hot.length < HOT_KEYS) {
      hot.push({ key, hits: e.hits });
      if (hot.length === HOT_KEYS) hot.sort((a, b) => b.hits - a.hits);
    } else if (e.hits > hot[HOT_KEYS - 1].hits) {
      hot[HOT_KEYS - 1] = { key, hits: e.hits };
      hot.sort((a, b) => b.hits - a.hits);
    }
  }
  hot.sort((a, b) => b.hits - a.hits);
  return hot;
}
