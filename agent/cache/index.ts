/**
 * The two-tier cache: L1 in process (lru-cache, bounded by entries and bytes),
 * L2 in Redis (optional, every call bounded, circuit breaker). Without Redis it
 * is a complete in-memory cache. See docs/cache.md for the consistency model,
 * Redis failure behaviour and what each feature costs.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import type { Redis } from 'ioredis';
import type { RedisClient } from '../api-types';
import { LRUCache } from 'lru-cache';
import type { CacheEvent, CacheKeyInfo, CacheStats, CacheTier, CommandResults, InvalidateResult, RedisState } from '../../protocol';
import { currentContext, type RequestContext } from '../context';
import * as check from '../check';
import { invalidOption, RouteLensError } from '../errors';
import { type Clock, type CommandSource, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import { asIoredis } from '../redis';
import { compileGlob, escapeGlob, validatePattern } from './glob';
import { displayJson, serialise } from './json';
import { truncate } from '../text';
import { FAIL, L2 } from './l2';
import { CappedCounts, type Counts, EventBatch, HitWindow, hitCounts, type NamespaceCounts } from './stats';

export { validatePattern, compileGlob, escapeGlob } from './glob';
export { createResponseCache, type ResponseCacheOptions } from './response';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/** Longest key accepted (the protocol's limit for `cache.inspect` and `cache.invalidate`). */
export const MAX_KEY_LENGTH = 4096;
const MAX_TAGS = 32;
const MAX_TAG_LENGTH = 512;
const MAX_TAG_STAMPS = 10_000;
const MAX_PENDING = 1_000;
const MAX_WARM_ENTRIES = 100_000;
const INSPECT_LIMIT = 8 * 1024;
const SCAN_COUNT = 200;
const HOT_KEYS = 20;

export interface SetOptions {
  /** Time to live (ms); 0 = never expires. Default: the namespace's ttl, else `ttl`. */
  ttl?: number;
  tags?: string[];
}

export interface GetOrSetOptions extends SetOptions {
  /** Stale-while-revalidate window (ms) after the ttl. Default: the cache's `grace`. */
  grace?: number;
}

export type WarmEntry = [key: string, value: unknown, options?: SetOptions];
export type Warmer = () => Promise<Iterable<WarmEntry>> | Iterable<WarmEntry>;

export interface CacheOptions {
  /** A Redis URL or an ioredis client (without keyPrefix). Without it the cache is in-memory only. */
  redis?: string | RedisClient;
  /** Forced on every Redis key and pattern. Default 'routelens:'. */
  prefix?: string;
  /** L1 entry cap. Default 10 000. */
  maxEntries?: number;
  /** L1 byte cap (entry size = serialised length). Default 50 MiB. */
  maxBytes?: number;
  /** Largest value accepted (serialised length). Default 1 MiB (and at most maxBytes). */
  maxEntryBytes?: number;
  /** Default ttl (ms); 0 = never expires. Default 0. */
  ttl?: number;
  /** Per-namespace defaults; the namespace is the key's part before its first ':'. */
  namespaces?: Record<string, { ttl?: number }>;
  /** With Redis: how long an L1 copy may live before L2 is asked again (ms). Default 60 000. */
  l1Ttl?: number;
  /** Budget for each Redis call (ms). Default 50. */
  timeout?: number;
  /** Default stale-while-revalidate window (ms). Default 0. */
  grace?: number;
  /** Gzip L2 payloads longer than this many bytes. Default: off. */
  compressAbove?: number;
  warmers?: Record<string, Warmer>;
  /** Run every warmer at start (in the background). Default false. */
  warmOnStart?: boolean;
  /** Pub/sub channel for invalidations. Default `${prefix}invalidations`. */
  channel?: string;
  /** This instance's id on the channel. Default a random UUID. */
  instanceId?: string;
  /** Consecutive L2 failures that open the breaker (default 3) and how long it stays open (ms, default 1000). */
  breaker?: { threshold?: number; cooldown?: number };
  /** Time box for pattern scans (ms). Default 2000. */
  scanBudget?: number;
  /** Events kept per batch between takeEvents() calls. Default 500. */
  maxEvents?: number;
}

export interface InvalidateOptions {
  dryRun?: boolean;
  source?: CommandSource;
}

export type InvalidateTarget = { key: string } | { pattern: string } | { tag: string };

export type CacheInspection = CommandResults['cache.inspect'];

export interface Cache {
  /** A fresh value, or undefined. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown, options?: SetOptions): Promise<void>;
  /** True when the key was present (in either tier). */
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  /** Cached value, or the loader's (run once per key at a time); stale within grace while one refresh runs. */
  getOrSet<T>(key: string, loader: () => T | Promise<T>, options?: GetOrSetOptions): Promise<T>;
  invalidate(target: InvalidateTarget, options?: InvalidateOptions): Promise<InvalidateResult>;
  /** Removes a namespace's keys (`ns:*`); '' removes every key. */
  clearNamespace(namespace: string, options?: { dryRun?: boolean; source?: CommandSource }): Promise<InvalidateResult>;
  keys(options?: { pattern?: string; cursor?: string; limit?: number }): Promise<{ keys: CacheKeyInfo[]; cursor: string | null }>;
  /** The value as JSON text truncated to 8 KiB, or undefined when absent. */
  inspect(key: string): Promise<CacheInspection | undefined>;
  warm(name: string): Promise<{ name: string; loaded: number }>;
  stats(): CacheStats;
  takeEvents(): { events: CacheEvent[]; dropped: number };
  takeChanged(): boolean;
  close(): Promise<void>;
}

interface Entry {
  value: unknown;
  size: number;
  /** Logical expiry (epoch ms), 0 = never. */
  expiresAt: number;
  /** End of grace, 0 = never. */
  staleUntil: number;
  /** L1 backstop (epoch ms), 0 = none. */
  l1Until: number;
  /** When the value was produced (a load's start): older than a tag's invalidation = missing. */
  createdAt: number;
  tags: string[] | undefined;
  ns: NamespaceCounts;
  hits: number;
}

interface Found {
  entry: Entry;
  tier: CacheTier;
  stale: boolean;
}

interface PeerMessage {
  /** Sender instance id. */
  i: string;
  k?: string[];
  p?: string;
  t?: string;
  ts?: number;
  c?: 1;
  /** Show as an invalidation event on peers: by and target. */
  e?: { by: 'key' | 'pattern' | 'tag' | 'namespace' | 'clear'; target: string };
}

interface RouteCounts extends Counts {
  route: string;
}

type Resolved = Required<Omit<CacheOptions, 'redis' | 'namespaces' | 'warmers' | 'breaker' | 'compressAbove'>> & {
  compressAbove: number;
  namespaces: Map<string, { ttl?: number }>;
  warmers: Map<string, Warmer>;
  breakerThreshold: number;
  breakerCooldown: number;
};

const CACHE_OPTION_NAMES = [
  'redis', 'prefix', 'maxEntries', 'maxBytes', 'maxEntryBytes', 'ttl', 'namespaces', 'l1Ttl', 'timeout', 'grace',
  'compressAbove', 'warmers', 'warmOnStart', 'channel', 'instanceId', 'breaker', 'scanBudget', 'maxEvents',
] as const satisfies ReadonlyArray<keyof CacheOptions>;
const allNamed: Exclude<keyof CacheOptions, (typeof CACHE_OPTION_NAMES)[number]> extends never ? true : never = true;
void allNamed;

/** The cache's options, each checked once (agent/check.ts); `cache.` names them inside createAgent's options. */
function resolveOptions(options: CacheOptions): Resolved {
  const o = check.object(options, 'cache options');
  check.knownFields(o, CACHE_OPTION_NAMES, 'cache');
  check.redis(o.redis, 'cache.redis');
  const ms = (name: keyof CacheOptions, def: number, min = 0) => check.number(o, name, def, { min }, `cache.${name}`);
  const prefix = check.string(o, 'prefix', 'routelens:', { min: 0, max: 256 }, 'cache.prefix');
  const namespaces = new Map<string, { ttl?: number }>();
  if (o.namespaces !== undefined) {
    for (const [ns, cfg] of Object.entries(check.object(o.namespaces, 'cache.namespaces'))) {
      const c = check.object(cfg, `cache.namespaces.${ns}`);
      namespaces.set(ns, { ttl: c.ttl === undefined ? undefined : check.number(c, 'ttl', 0, { min: 0 }, `cache.namespaces.${ns}.ttl`) });
    }
  }
  const warmers = new Map<string, Warmer>();
  if (o.warmers !== undefined) {
    const given = check.object(o.warmers, 'cache.warmers');
    for (const name of Object.keys(given)) {
      const warmer = check.fn<Warmer>(given, name, `cache.warmers.${name}`);
      if (warmer) warmers.set(name, warmer);
    }
  }
  const b = check.object(o.breaker ?? {}, 'cache.breaker');
  const maxBytes = ms('maxBytes', 50 * 1024 * 1024, 1);
  return {
    prefix,
    maxEntries: Math.floor(ms('maxEntries', 10_000, 1)),
    maxBytes,
    maxEntryBytes: Math.min(ms('maxEntryBytes', 1024 * 1024, 1), maxBytes),
    ttl: ms('ttl', 0),
    l1Ttl: ms('l1Ttl', 60_000),
    timeout: ms('timeout', 50, 1),
    grace: ms('grace', 0),
    compressAbove: ms('compressAbove', Infinity),
    warmOnStart: check.boolean(o, 'warmOnStart', false, 'cache.warmOnStart'),
    channel: check.string(o, 'channel', `${prefix}invalidations`, { min: 1, max: 256 }, 'cache.channel'),
    instanceId: check.string(o, 'instanceId', randomUUID(), { min: 1, max: 256 }, 'cache.instanceId'),
    scanBudget: ms('scanBudget', 2000, 1),
    maxEvents: Math.floor(ms('maxEvents', 500, 0)),
    namespaces,
    warmers,
    breakerThreshold: check.number(b, 'threshold', 3, { min: 1, integer: true }, 'cache.breaker.threshold'),
    breakerCooldown: check.number(b, 'cooldown', 1000, { min: 0 }, 'cache.breaker.cooldown'),
  };
}

function namespaceOf(key: string): string {
  const i = key.indexOf(':');
  return i < 0 ? '' : key.slice(0, i);
}

function checkKey(key: unknown): RouteLensError | undefined {
  if (typeof key !== 'string' || key.length === 0) return new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', 'a cache key must be a non-empty string');
  if (key.length > MAX_KEY_LENGTH) {
    return new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `cache key is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH} (hash long keys): ${truncate(key, 64)}`);
  }
  return undefined;
}

function checkTags(tags: unknown): string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags) || tags.length > MAX_TAGS || tags.some((t) => typeof t !== 'string' || t.length === 0 || t.length > MAX_TAG_LENGTH)) {
    throw invalidOption('tags', `an array of at most ${MAX_TAGS} non-empty strings of at most ${MAX_TAG_LENGTH} characters`, tags);
  }
  return tags.length === 0 ? undefined : [...new Set(tags as string[])];
}

function checkTtl(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalidOption(name, 'a finite number >= 0', v);
  return v;
}

export function createCache(options: CacheOptions = {}, deps: { diag?: Diagnostics; clock?: Clock } = {}): Cache {
  return new TwoTierCache(resolveOptions(options), options.redis, deps.diag, deps.clock ?? systemClock);
}

class TwoTierCache implements Cache {
  private readonly lru: LRUCache<string, Entry>;
  private readonly l2: L2 | undefined;
  private readonly dataPrefix: string;
  private readonly tagPrefix: string;
  private readonly events: EventBatch;
  private readonly flights = new Map<string, Promise<unknown>>();
  private readonly tagStamps = new Map<string, number>();
  private readonly pending = new Set<string>();
  private readonly namespaces = new CappedCounts<NamespaceCounts>(100, (namespace) => ({ namespace, hits: 0, misses: 0, entries: 0 }));
  private readonly routes = new CappedCounts<RouteCounts>(200, (route) => ({ route, hits: 0, misses: 0 }));
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
  private changed = true;
  private closed = false;
  /** Bumped by every peer message: an L2 read that a message overtook is returned but not copied into L1. */
  private peerSeq = 0;
  private redisState: RedisState = 'none';

  constructor(
    private readonly o: Resolved,
    redis: string | RedisClient | undefined,
    private readonly diag: Diagnostics | undefined,
    private readonly clock: Clock,
  ) {
    this.dataPrefix = `${o.prefix}d:`;
    this.tagPrefix = `${o.prefix}t:`;
    this.events = new EventBatch(o.maxEvents);
    this.lru = new LRUCache<string, Entry>({
      max: o.maxEntries,
      maxSize: o.maxBytes,
      sizeCalculation: (e) => e.size,
      dispose: (e, key, reason) => {
        e.ns.entries--;
        if (reason === 'evict') {
          this.evictions++;
          this.changed = true;
          if (this.events.room()) this.events.events.push({ kind: 'eviction', time: this.clock(), key, namespace: e.ns.namespace, tier: 'l1' });
        }
      },
    });
    if (redis !== undefined) {
      this.redisState = 'connecting';
      this.l2 = new L2({
        redis: typeof redis === 'string' ? redis : asIoredis(redis),
        timeout: o.timeout,
        channel: o.channel,
        breakerThreshold: o.breakerThreshold,
        breakerCooldown: o.breakerCooldown,
        onState: (s) => this.onRedisState(s),
        onError: (m) => this.onL2Error(m),
        onMessage: (text) => this.onPeerMessage(text),
        onSubscribed: () => this.flushL1(),
      });
    }
    if (o.warmOnStart) {
      for (const name of o.warmers.keys()) void this.warm(name).catch((err: unknown) => this.diag?.failure('cache.warm', err));
    }
  }

  // ------------------------------------------------------------ hot path

  get<T = unknown>(key: string): Promise<T | undefined> {
    if (this.closed) return Promise.reject(closedError());
    const bad = checkKey(key);
    if (bad) return Promise.reject(bad);
    const now = this.clock();
    const e = this.lru.get(key);
    if (e !== undefined && this.freshInL1(e, now)) {
      this.hit(key, e, 'l1', now);
      return Promise.resolve(e.value as T);
    }
    return this.getSlow<T>(key, now);
  }

  private async getSlow<T>(key: string, now: number): Promise<T | undefined> {
    const found = await this.lookup(key, now, true);
    if (found !== undefined && !found.stale) {
      this.hit(key, found.entry, found.tier, now);
      return found.entry.value as T;
    }
    this.miss(key, now);
    return undefined;
  }

  /** Fresh and usable in L1 right now (no allocation). */
  private freshInL1(e: Entry, now: number): boolean {
    return (e.expiresAt === 0 || now < e.expiresAt) && (e.l1Until === 0 || now < e.l1Until) && (e.tags === undefined || !this.tagInvalidated(e));
  }

  private tagInvalidated(e: Entry): boolean {
    if (e.tags === undefined || this.tagStamps.size === 0) return false;
    for (const t of e.tags) {
      const stamp = this.tagStamps.get(t);
      if (stamp !== undefined && stamp > e.createdAt) return true;
    }
    return false;
  }

  private hit(key: string, e: Entry, tier: CacheTier, now: number): void {
    this.changed = true;
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

  private miss(key: string, now: number): void {
    this.changed = true;
    this.overall.misses++;
    this.l1Counts.misses++;
    if (this.l2 !== undefined) this.l2Counts.misses++;
    const ns = this.namespaces.get(namespaceOf(key));
    ns.misses++;
    this.window.miss(now);
    const route = this.route();
    if (route !== undefined) route.misses++;
    if (this.events.room()) this.events.events.push({ kind: 'miss', time: now, key, namespace: ns.namespace, route: route?.route });
  }

  /** The route counts of the request being handled (one WeakMap lookup; the id string is built once per request). */
  private route(): RouteCounts | undefined {
    const ctx = currentContext();
    if (ctx === undefined || ctx.route === undefined) return undefined;
    let r = this.routeOf.get(ctx);
    if (r === undefined || r.template !== ctx.route) {
      r = { template: ctx.route, counts: this.routes.get(`${ctx.method} ${ctx.route}`) };
      this.routeOf.set(ctx, r);
    }
    return r.counts;
  }

  // ------------------------------------------------------------ lookups

  /**
   * The best entry for a key: fresh from L1, else from L2 (copied into L1),
   * else a stale one within grace. Dead entries are removed (counted as expiries).
   */
  private async lookup(key: string, now: number, count: boolean): Promise<Found | undefined> {
    let stale: Found | undefined;
    /** An L1 copy past its backstop: L2 is asked first, but the copy is served when L2 cannot answer. */
    let backstop: Entry | undefined;
    const e = this.lru.peek(key);
    if (e !== undefined) {
      const state = this.classify(e, now);
      if (state === 'fresh') return { entry: e, tier: 'l1', stale: false };
      if (state === 'stale') stale = { entry: e, tier: 'l1', stale: true };
      else if (state === 'backstop') backstop = e;
      else this.dropL1(key, e, state, now);
    }
    if (this.l2 === undefined || !this.l2.available()) return backstop !== undefined ? { entry: backstop, tier: 'l1', stale: false } : stale;
    const seq = this.peerSeq;
    const raw = await this.l2.get(this.dataPrefix + key);
    if (raw === FAIL) return backstop !== undefined ? { entry: backstop, tier: 'l1', stale: false } : stale;
    if (backstop !== undefined && this.lru.peek(key) === backstop) this.lru.delete(key);
    if (raw === null) return stale;
    const entry = await this.decode(key, raw, now);
    if (entry === undefined) return stale;
    const state = this.classify(entry, now);
    if (state === 'fresh' || (state === 'stale' && (stale === undefined || entry.createdAt > stale.entry.createdAt))) {
      // A peer message that arrived while the GET was in flight may have invalidated what it returned.
      if ((count || state === 'fresh') && seq === this.peerSeq) this.insertL1(key, entry);
      if (state === 'fresh') return { entry, tier: 'l2', stale: false };
      stale = { entry, tier: 'l2', stale: true };
    }
    return stale;
  }

  private classify(e: Entry, now: number): 'fresh' | 'stale' | 'dead' | 'backstop' | 'obsolete' {
    if (e.tags !== undefined && this.tagInvalidated(e)) return 'obsolete';
    if (e.expiresAt !== 0 && now >= e.expiresAt) return e.staleUntil !== 0 && now < e.staleUntil ? 'stale' : 'dead';
    if (e.l1Until !== 0 && now >= e.l1Until) return 'backstop';
    return 'fresh';
  }

  private dropL1(key: string, e: Entry, why: 'dead' | 'backstop' | 'obsolete' | 'stale' | 'fresh', now: number): void {
    this.lru.delete(key);
    if (why === 'dead') {
      this.expirations++;
      this.changed = true;
      if (this.events.room()) this.events.events.push({ kind: 'expiry', time: now, key, namespace: e.ns.namespace, tier: 'l1' });
    }
  }

  private insertL1(key: string, e: Entry): void {
    if (e.size > this.o.maxEntryBytes) return;
    if (this.l2 !== undefined && this.o.l1Ttl > 0) e.l1Until = this.clock() + this.o.l1Ttl;
    e.ns.entries++;
    this.lru.set(key, e);
  }

  private async decode(key: string, raw: Buffer, now: number): Promise<Entry | undefined> {
    try {
      const text = raw[0] === 0x1f && raw[1] === 0x8b ? (await gunzip(raw)).toString('utf8') : raw.toString('utf8');
      const env = JSON.parse(text) as { v: unknown; e?: number; s?: number; c?: number; t?: string[] };
      if (env === null || typeof env !== 'object' || !('v' in env)) throw new Error('not a cache envelope');
      return {
        value: env.v,
        size: Math.max(1, text.length),
        expiresAt: typeof env.e === 'number' ? env.e : 0,
        staleUntil: typeof env.s === 'number' ? env.s : 0,
        l1Until: 0,
        createdAt: typeof env.c === 'number' ? env.c : now,
        tags: Array.isArray(env.t) && env.t.length > 0 ? env.t.filter((t) => typeof t === 'string') : undefined,
        ns: this.namespaces.get(namespaceOf(key)),
        hits: 0,
      };
    } catch (err) {
      this.error(`undecodable L2 entry: ${err instanceof Error ? err.message : String(err)}`, key);
      return undefined;
    }
  }

  // ------------------------------------------------------------ writes

  async set(key: string, value: unknown, options: SetOptions = {}): Promise<void> {
    this.assertOpen();
    const bad = checkKey(key);
    if (bad) throw bad;
    await this.store(key, value, options, this.clock(), undefined);
  }

  /** Validates and writes both tiers; throws INVALID_OPTION for values that cannot be cached. */
  private async store(key: string, value: unknown, options: GetOrSetOptions, createdAt: number, grace: number | undefined): Promise<void> {
    const ttlOpt = checkTtl('ttl', options.ttl);
    const tags = checkTags(options.tags);
    const text = serialise(value);
    if (text instanceof Error) throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `cannot cache "${truncate(key, 64)}": ${text.message}`);
    if (text.length > this.o.maxEntryBytes) {
      throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `cannot cache "${truncate(key, 64)}": value is ${text.length} bytes, maxEntryBytes is ${this.o.maxEntryBytes}`);
    }
    const nsName = namespaceOf(key);
    const ttl = ttlOpt ?? this.o.namespaces.get(nsName)?.ttl ?? this.o.ttl;
    const g = grace ?? checkTtl('grace', options.grace) ?? this.o.grace;
    const now = this.clock();
    const expiresAt = ttl > 0 ? now + ttl : 0;
    const staleUntil = ttl > 0 ? expiresAt + g : 0;
    const entry: Entry = {
      value: JSON.parse(text),
      size: Math.max(1, text.length),
      expiresAt,
      staleUntil,
      l1Until: 0,
      createdAt,
      tags,
      ns: this.namespaces.get(nsName),
      hits: 0,
    };
    this.insertL1(key, entry);
    this.sets++;
    this.changed = true;
    if (this.events.room()) this.events.events.push({ kind: 'set', time: now, key, namespace: nsName, route: this.route()?.route });
    if (this.l2 === undefined) return;
    const dataKey = this.dataPrefix + key;
    if (!this.l2.available()) {
      this.remember(dataKey);
      return;
    }
    let env = `{"e":${expiresAt},"s":${staleUntil},"c":${createdAt}${tags ? `,"t":${JSON.stringify(tags)}` : ''},"v":${text}}`;
    const payload = env.length > this.o.compressAbove ? await gzip(Buffer.from(env, 'utf8')) : Buffer.from(env, 'utf8');
    env = '';
    const px = ttl > 0 ? ttl + g : 0;
    const [written] = await Promise.all([
      this.l2.set(dataKey, payload, px, tags ? tags.map((t) => this.tagPrefix + t) : []),
      this.publish({ i: this.o.instanceId, k: [key] }),
    ]);
    if (written === FAIL) this.remember(dataKey);
  }

  async delete(key: string): Promise<boolean> {
    this.assertOpen();
    const bad = checkKey(key);
    if (bad) throw bad;
    const removed = await this.removeKey(key);
    this.deletes++;
    this.changed = true;
    if (this.events.room()) this.events.events.push({ kind: 'delete', time: this.clock(), key, namespace: namespaceOf(key), route: this.route()?.route });
    return removed;
  }

  private async removeKey(key: string, event?: PeerMessage['e']): Promise<boolean> {
    let removed = this.lru.delete(key);
    if (this.l2 !== undefined) {
      const dataKey = this.dataPrefix + key;
      const [n] = await Promise.all([this.l2.unlink([dataKey]), this.publish({ i: this.o.instanceId, k: [key], e: event })]);
      if (n === FAIL) this.remember(dataKey);
      else if (n > 0) removed = true;
    }
    return removed;
  }

  async has(key: string): Promise<boolean> {
    this.assertOpen();
    const bad = checkKey(key);
    if (bad) throw bad;
    const found = await this.lookup(key, this.clock(), false);
    return found !== undefined && !found.stale;
  }

  // ------------------------------------------------------------ getOrSet

  async getOrSet<T>(key: string, loader: () => T | Promise<T>, options: GetOrSetOptions = {}): Promise<T> {
    this.assertOpen();
    const bad = checkKey(key);
    if (bad) throw bad;
    if (typeof loader !== 'function') throw invalidOption('loader', 'a function', loader);
    const now = this.clock();
    const e = this.lru.get(key);
    if (e !== undefined && this.freshInL1(e, now)) {
      this.hit(key, e, 'l1', now);
      return e.value as T;
    }
    const found = await this.lookup(key, now, true);
    if (found !== undefined) {
      this.hit(key, found.entry, found.tier, now);
      if (found.stale) void this.load(key, loader, options, found).catch(() => {});
      return found.entry.value as T;
    }
    this.miss(key, now);
    return this.load(key, loader, options, undefined);
  }

  /** Per-key single flight: concurrent callers share one loader run. */
  private load<T>(key: string, loader: () => T | Promise<T>, options: GetOrSetOptions, stale: Found | undefined): Promise<T> {
    let flight = this.flights.get(key) as Promise<T> | undefined;
    if (flight === undefined) {
      flight = this.runLoader(key, loader, options, stale).finally(() => this.flights.delete(key));
      this.flights.set(key, flight);
    }
    return flight;
  }

  private async runLoader<T>(key: string, loader: () => T | Promise<T>, options: GetOrSetOptions, stale: Found | undefined): Promise<T> {
    const createdAt = this.clock();
    const started = performance.now();
    const route = this.route()?.route;
    let value: T;
    try {
      value = await loader();
    } catch (err) {
      this.loads.errors++;
      this.changed = true;
      this.error(`loader failed: ${err instanceof Error ? err.message : String(err)}`, key);
      const fallback = stale ?? (await this.lookup(key, this.clock(), false));
      if (fallback !== undefined) return fallback.entry.value as T;
      throw new RouteLensError('ROUTELENS_ERR_LOADER', `cache loader for "${truncate(key, 128)}" failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const duration = performance.now() - started;
    this.loads.count++;
    this.loads.total += duration;
    if (duration > this.loads.max) this.loads.max = duration;
    this.changed = true;
    if (this.events.room()) this.events.events.push({ kind: 'load', time: this.clock(), key, namespace: namespaceOf(key), duration, route });
    if (value === undefined) return value;
    try {
      if (!this.closed) await this.store(key, value, options, createdAt, checkTtl('grace', options.grace));
    } catch (err) {
      // Not cacheable (cyclic, BigInt, too big): the caller still gets its value.
      this.error(err instanceof Error ? err.message : String(err), key);
    }
    return value;
  }

  // ------------------------------------------------------------ invalidation

  async invalidate(target: InvalidateTarget, options: InvalidateOptions = {}): Promise<InvalidateResult> {
    this.assertOpen();
    if (target === null || typeof target !== 'object') throw invalidOption('target', 'one of { key }, { pattern } or { tag }', target);
    const given = (['key', 'pattern', 'tag'] as const).filter((k) => (target as Record<string, unknown>)[k] !== undefined);
    if (given.length !== 1) throw invalidOption('target', 'exactly one of { key }, { pattern } or { tag }', target);
    const dryRun = options.dryRun === true;
    const source = options.source ?? 'app';
    let result: InvalidateResult;
    let by: 'key' | 'pattern' | 'tag';
    let targetText: string;
    if ('key' in target && target.key !== undefined) {
      const bad = checkKey(target.key);
      if (bad) throw bad;
      by = 'key';
      targetText = target.key;
      result = dryRun ? { removed: (await this.has(target.key)) ? 1 : 0, dryRun } : { removed: (await this.removeKey(target.key, { by, target: targetText })) ? 1 : 0, dryRun };
    } else if ('pattern' in target && target.pattern !== undefined) {
      validatePattern(target.pattern);
      by = 'pattern';
      targetText = target.pattern;
      result = await this.removePattern(target.pattern, dryRun, { by, target: targetText });
    } else {
      const tag = (target as { tag: unknown }).tag;
      if (typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG_LENGTH) throw invalidOption('tag', `a non-empty string of at most ${MAX_TAG_LENGTH} characters`, tag);
      by = 'tag';
      targetText = tag;
      result = await this.removeTag(tag, dryRun);
    }
    if (!dryRun) this.invalidated(by, targetText, source, result.removed);
    return result;
  }

  async clearNamespace(namespace: string, options: { dryRun?: boolean; source?: CommandSource } = {}): Promise<InvalidateResult> {
    this.assertOpen();
    if (typeof namespace !== 'string' || namespace.length > 512) throw invalidOption('namespace', 'a string of at most 512 characters', namespace);
    const dryRun = options.dryRun === true;
    const by = namespace === '' ? 'clear' : 'namespace';
    const pattern = namespace === '' ? '*' : `${escapeGlob(namespace)}:*`;
    const result = await this.removePattern(pattern, dryRun, { by, target: namespace === '' ? '*' : namespace });
    // Clearing everything also drops the tag sets and the local tag stamps (nothing is left to tag).
    if (namespace === '' && !dryRun) {
      this.tagStamps.clear();
      if (this.l2 !== undefined) await this.scan(`${escapeGlob(this.tagPrefix)}*`, false);
    }
    if (!dryRun) this.invalidated(by, namespace === '' ? '*' : namespace, options.source ?? 'app', result.removed);
    return result;
  }

  private invalidated(by: 'key' | 'pattern' | 'tag' | 'namespace' | 'clear', target: string, source: CommandSource | 'peer', removed: number): void {
    this.invalidations++;
    this.changed = true;
    if (this.events.room()) this.events.events.push({ kind: 'invalidation', time: this.clock(), invalidation: { by, target, source, removed } });
  }

  private removeL1Matching(pattern: string, dryRun: boolean): number {
    const match = compileGlob(pattern);
    const hits: string[] = [];
    for (const key of this.lru.keys()) if (match(key)) hits.push(key);
    if (!dryRun) for (const key of hits) this.lru.delete(key);
    return hits.length;
  }

  private async removePattern(pattern: string, dryRun: boolean, event: PeerMessage['e']): Promise<InvalidateResult> {
    const l1 = this.removeL1Matching(pattern, dryRun);
    if (this.l2 === undefined) return { removed: l1, dryRun };
    const { count, partial } = await this.scan(escapeGlob(this.dataPrefix) + pattern, dryRun);
    // Published after L2 is cleaned, so a peer that drops its L1 copy cannot re-read the old value from L2.
    if (!dryRun) await this.publish({ i: this.o.instanceId, p: pattern, e: event });
    return partial ? { removed: Math.max(count, l1), dryRun, partial } : { removed: count, dryRun };
  }

  /** SCAN MATCH with a bounded COUNT, UNLINK per batch, stopped at the time box. Never KEYS. */
  private scan(match: string, dryRun: boolean): Promise<{ count: number; partial: boolean }> {
    return this.sweep((c, cursor) => c.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT), dryRun, async (keys) => keys.length);
  }

  /**
   * Walks a cursor (SCAN or SSCAN) page by page: UNLINKs each page, or counts it
   * for a dry run, until the cursor returns to 0, a call fails or `scanBudget` runs out (partial).
   */
  private async sweep(
    page: (c: Redis, cursor: string) => Promise<[cursor: string, keys: string[]]>,
    dryRun: boolean,
    countDry: (keys: string[]) => Promise<number | typeof FAIL>,
  ): Promise<{ count: number; partial: boolean }> {
    const l2 = this.l2!;
    const deadline = Date.now() + this.o.scanBudget;
    let cursor = '0';
    let count = 0;
    do {
      if (Date.now() > deadline) return { count, partial: true };
      const at = cursor;
      const result = await l2.run((c) => page(c, at));
      if (result === FAIL) return { count, partial: true };
      cursor = result[0];
      if (result[1].length === 0) continue;
      const n = dryRun ? await countDry(result[1]) : await l2.unlink(result[1]);
      if (n === FAIL) return { count, partial: true };
      count += n;
    } while (cursor !== '0');
    return { count, partial: false };
  }

  private async removeTag(tag: string, dryRun: boolean): Promise<InvalidateResult> {
    const hits: string[] = [];
    for (const [key, e] of this.lru.entries()) if (e.tags?.includes(tag) && !this.tagInvalidated(e)) hits.push(key);
    const l1 = hits.length;
    if (!dryRun) {
      // The stamp travels with the message, so a peer treats anything produced before it as missing even if it re-reads L2 before the UNLINKs land.
      const ts = this.clock();
      this.stampTag(tag, ts);
      for (const key of hits) this.lru.delete(key);
      if (this.l2 !== undefined) await this.publish({ i: this.o.instanceId, t: tag, ts, e: { by: 'tag', target: tag } });
    }
    if (this.l2 === undefined) return { removed: l1, dryRun };
    const l2 = this.l2;
    const setKey = this.tagPrefix + tag;
    const { count, partial } = await this.sweep((c, cursor) => c.sscan(setKey, cursor, 'COUNT', SCAN_COUNT), dryRun, (keys) => l2.run((c) => c.exists(...keys)));
    if (partial) return { removed: Math.max(count, l1), dryRun, partial };
    if (!dryRun) await l2.unlink([setKey]);
    return { removed: count, dryRun };
  }

  private stampTag(tag: string, ts: number): void {
    this.tagStamps.delete(tag);
    this.tagStamps.set(tag, ts);
    if (this.tagStamps.size > MAX_TAG_STAMPS) {
      const oldest = this.tagStamps.keys().next().value;
      if (oldest !== undefined) this.tagStamps.delete(oldest);
    }
  }

  // ------------------------------------------------------------ peers and Redis state

  private async publish(message: PeerMessage): Promise<void> {
    if (this.l2 === undefined || !this.l2.available()) return;
    await this.l2.publish(JSON.stringify(message));
  }

  private onPeerMessage(text: string): void {
    let m: PeerMessage;
    try {
      m = JSON.parse(text) as PeerMessage;
    } catch {
      return;
    }
    if (m === null || typeof m !== 'object' || typeof m.i !== 'string' || m.i === this.o.instanceId) return;
    this.peerSeq++;
    try {
      if (Array.isArray(m.k)) for (const key of m.k) if (typeof key === 'string') this.lru.delete(key);
      if (typeof m.p === 'string') {
        validatePattern(m.p);
        this.removeL1Matching(m.p, false);
      }
      if (typeof m.t === 'string') {
        this.stampTag(m.t, typeof m.ts === 'number' ? m.ts : this.clock());
        for (const [key, e] of [...this.lru.entries()]) if (e.tags?.includes(m.t)) this.lru.delete(key);
      }
      if (m.c === 1) this.lru.clear();
      if (m.e && typeof m.e === 'object' && typeof m.e.target === 'string') this.invalidated(m.e.by, m.e.target, 'peer', 0);
    } catch (err) {
      this.diag?.failure('cache.peer-message', err);
      this.lru.clear();
    }
  }

  /** The subscriber (re)subscribed: invalidations sent meanwhile are lost, so nothing in L1 can be trusted. */
  private flushL1(): void {
    this.lru.clear();
  }

  private onRedisState(s: RedisState): void {
    const previous = this.redisState;
    this.redisState = s;
    this.changed = true;
    if (this.events.room()) this.events.events.push({ kind: 'connection', time: this.clock(), state: s });
    if (s === 'down') this.diag?.warnOnce('ROUTELENS_WARN_CACHE_REDIS_DOWN', 'cache: Redis is unreachable; serving from memory');
    if (s === 'ready' && previous !== 'ready') void this.flushPending();
  }

  private onL2Error(message: string): void {
    this.diag?.failure('cache.l2', new Error(message));
    this.error(`redis: ${message}`, undefined);
  }

  /** Keys whose L2 write or delete failed: their L2 copy may be stale, so they are unlinked once Redis is back. */
  private remember(dataKey: string): void {
    if (this.pending.size < MAX_PENDING) this.pending.add(dataKey);
  }

  private async flushPending(): Promise<void> {
    if (this.l2 === undefined || this.pending.size === 0) return;
    const keys = [...this.pending];
    this.pending.clear();
    for (let i = 0; i < keys.length; i += SCAN_COUNT) {
      const batch = keys.slice(i, i + SCAN_COUNT);
      const n = await this.l2.unlink(batch);
      if (n === FAIL) {
        for (const k of keys.slice(i)) this.remember(k);
        return;
      }
      await this.publish({ i: this.o.instanceId, k: batch.map((k) => k.slice(this.dataPrefix.length)) });
    }
  }

  private error(message: string, key: string | undefined): void {
    this.changed = true;
    if (this.events.room()) this.events.events.push({ kind: 'error', time: this.clock(), key, message: truncate(message, 500) });
  }

  // ------------------------------------------------------------ listing, inspecting, warming

  async keys(options: { pattern?: string; cursor?: string; limit?: number } = {}): Promise<{ keys: CacheKeyInfo[]; cursor: string | null }> {
    this.assertOpen();
    const pattern = options.pattern ?? '*';
    validatePattern(pattern);
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalidOption('limit', 'an integer from 1 to 1000', limit);
    const cursor = options.cursor ?? '';
    if (typeof cursor !== 'string' || cursor.length > 256) throw invalidOption('cursor', 'a cursor string', cursor);
    if (this.l2 !== undefined && !cursor.startsWith('l1:')) {
      const fromL2 = await this.keysFromL2(pattern, cursor === '' ? '0' : cursor, limit);
      if (fromL2 !== undefined) return fromL2;
    }
    return this.keysFromL1(pattern, cursor.startsWith('l1:') ? Number(cursor.slice(3)) || 0 : 0, limit);
  }

  private keysFromL1(pattern: string, offset: number, limit: number): { keys: CacheKeyInfo[]; cursor: string | null } {
    const match = compileGlob(pattern);
    const now = this.clock();
    const out: CacheKeyInfo[] = [];
    let seen = 0;
    for (const [key, e] of this.lru.entries()) {
      if (!match(key)) continue;
      if (seen++ < offset) continue;
      if (out.length === limit) return { keys: out, cursor: `l1:${offset + limit}` };
      out.push({
        key,
        namespace: e.ns.namespace,
        tier: 'l1',
        ttl: e.expiresAt === 0 ? undefined : Math.max(0, e.expiresAt - now),
        size: e.size,
        tags: e.tags,
      });
    }
    return { keys: out, cursor: null };
  }

  private async keysFromL2(pattern: string, cursor: string, limit: number): Promise<{ keys: CacheKeyInfo[]; cursor: string | null } | undefined> {
    const l2 = this.l2!;
    if (!l2.available()) return undefined;
    if (!/^\d{1,20}$/.test(cursor)) throw invalidOption('cursor', 'a cursor returned by keys()', cursor);
    const match = escapeGlob(this.dataPrefix) + pattern;
    const deadline = Date.now() + Math.min(this.o.scanBudget, 1000);
    const found: string[] = [];
    let next = cursor;
    do {
      const page = await l2.run((c) => c.scan(next, 'MATCH', match, 'COUNT', Math.min(SCAN_COUNT, limit)));
      if (page === FAIL) return found.length === 0 && cursor === '0' ? undefined : this.describeL2(found, next === '0' ? null : next);
      next = page[0];
      found.push(...page[1]);
    } while (next !== '0' && found.length < limit && Date.now() < deadline);
    return this.describeL2(found, next === '0' ? null : next);
  }

  private async describeL2(dataKeys: string[], cursor: string | null): Promise<{ keys: CacheKeyInfo[]; cursor: string | null }> {
    const unique = [...new Set(dataKeys)];
    const info = await this.l2!.run(async (c) => {
      const p = c.pipeline();
      for (const k of unique) p.pttl(k).strlen(k);
      return (await p.exec()) ?? [];
    });
    const keys = unique.map((dataKey, i): CacheKeyInfo => {
      const key = dataKey.slice(this.dataPrefix.length);
      const ttl = info === FAIL ? undefined : (info[2 * i]?.[1] as number | undefined);
      const size = info === FAIL ? 0 : ((info[2 * i + 1]?.[1] as number | undefined) ?? 0);
      const l1 = this.lru.peek(key);
      return { key, namespace: namespaceOf(key), tier: l1 ? 'both' : 'l2', ttl: typeof ttl === 'number' && ttl >= 0 ? ttl : undefined, size, tags: l1?.tags };
    });
    return { keys, cursor };
  }

  async inspect(key: string): Promise<CacheInspection | undefined> {
    this.assertOpen();
    const bad = checkKey(key);
    if (bad) throw bad;
    const now = this.clock();
    const l1 = this.lru.peek(key);
    const l1Fresh = l1 !== undefined && this.classify(l1, now) !== 'dead' && this.classify(l1, now) !== 'obsolete';
    let entry = l1Fresh ? l1 : undefined;
    let tier: CacheTier | 'both' = 'l1';
    if (this.l2 !== undefined && this.l2.available()) {
      const raw = await this.l2.get(this.dataPrefix + key);
      if (raw !== FAIL && raw !== null) {
        if (entry !== undefined) tier = 'both';
        else {
          entry = await this.decode(key, raw, now);
          tier = 'l2';
        }
      }
    }
    if (entry === undefined) return undefined;
    const { text, truncated } = displayJson(entry.value, INSPECT_LIMIT);
    return {
      key,
      value: text,
      truncated,
      size: entry.size,
      ttl: entry.expiresAt === 0 ? undefined : Math.max(0, entry.expiresAt - now),
      tags: entry.tags,
      tier,
    };
  }

  async warm(name: string): Promise<{ name: string; loaded: number }> {
    this.assertOpen();
    const warmer = this.o.warmers.get(name);
    if (warmer === undefined) throw new RouteLensError('ROUTELENS_ERR_NOT_FOUND', `no cache warmer named "${truncate(String(name), 64)}"`);
    let entries: Iterable<WarmEntry>;
    try {
      entries = await warmer();
    } catch (err) {
      throw new RouteLensError('ROUTELENS_ERR_LOADER', `cache warmer "${name}" failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    let loaded = 0;
    let seen = 0;
    for (const item of entries) {
      if (++seen > MAX_WARM_ENTRIES || this.closed) break;
      if (!Array.isArray(item) || checkKey(item[0]) !== undefined) {
        this.error(`warmer "${name}" produced an invalid entry`, undefined);
        continue;
      }
      try {
        await this.set(item[0], item[1], item[2]);
        loaded++;
      } catch (err) {
        this.error(err instanceof Error ? err.message : String(err), item[0]);
      }
    }
    return { name, loaded };
  }

  // ------------------------------------------------------------ stats

  stats(): CacheStats {
    const now = this.clock();
    const loadsAvg = this.loads.count === 0 ? 0 : this.loads.total / this.loads.count;
    const hot: Array<{ key: string; hits: number }> = [];
    for (const [key, e] of this.lru.entries()) {
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
    return {
      enabled: !this.closed,
      redis: this.l2 === undefined ? 'none' : this.l2.state(),
      l1: { ...hitCounts(this.l1Counts), entries: this.lru.size, bytes: this.lru.calculatedSize, maxEntries: this.o.maxEntries, maxBytes: this.o.maxBytes },
      l2: { ...hitCounts(this.l2Counts), errors: this.l2?.errors ?? 0 },
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
      hotKeys: hot,
      warmers: [...this.o.warmers.keys()],
    };
  }

  takeEvents(): { events: CacheEvent[]; dropped: number } {
    return this.events.take();
  }

  takeChanged(): boolean {
    const c = this.changed;
    this.changed = false;
    return c;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.changed = true;
    await this.l2?.close();
    this.lru.clear();
    this.flights.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }
}

function closedError(): RouteLensError {
  return new RouteLensError('ROUTELENS_ERR_CLOSED', 'the cache is closed');
}
