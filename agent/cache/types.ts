/**
 * The cache's public types: what `createCache` takes and what a `Cache` does.
 * Internal shapes (entries, wire formats, resolved options) live beside the
 * code that uses them; this file imports only the protocol's types and the
 * structural client type, so the published declarations stay self-contained.
 */
import type { RedisClient } from '../api-types';
import type { CacheEvent, CacheKeyInfo, CacheStats, CommandResults, InvalidateResult } from '../../protocol';
import type { EventCursor, EventRead } from './stats';

/** L1 eviction order under memory pressure: low entries go first, high ones last. */
export type Priority = 'high' | 'normal' | 'low';

export interface SetOptions {
  /** Time to live (ms); 0 = never expires. Default: the namespace's ttl, else `ttl`. */
  ttl?: number;
  tags?: string[];
  /** Default: the namespace's priority, else 'normal'. */
  priority?: Priority;
}

export interface GetOptions {
  /** Feed this read to the access model and preload its likely successor. Default: the namespace's `predictive`. */
  predictive?: boolean;
}

export interface GetOrSetOptions extends SetOptions, GetOptions {
  /** Stale-while-revalidate window (ms) after the ttl. Default: the cache's `grace`. */
  grace?: number;
}

/** One entry to write: key, value, options. */
export type CacheEntry = [key: string, value: unknown, options?: SetOptions];
export type WarmEntry = CacheEntry;
export type Warmer = () => Promise<Iterable<WarmEntry>> | Iterable<WarmEntry>;

/** A warmer with a schedule. */
export interface ScheduledWarmer {
  load: Warmer;
  /** Also run every `every` ms (at least 1000). Default: at start (with `warmOnStart`) and on demand only. */
  every?: number;
  /** A run stops writing after this many ms and is reported as failed. Default 30 000. */
  timeout?: number;
}

/** A loader for every key a pattern matches: what predictive preloading may call. */
export type KeyLoader<T = unknown> = (key: string) => T | Promise<T>;

export interface NamespaceOptions {
  ttl?: number;
  /** false: with Redis, values of this namespace are kept in L2 only, except hot keys (see `hotKeys`). Default true. */
  l1?: boolean;
  priority?: Priority;
  /** Every read in this namespace feeds the access model and may preload a likely successor. Default false. */
  predictive?: boolean;
}

export interface PredictiveOptions {
  /** A read followed by another within this many ms counts as a transition. Default 1000. */
  window?: number;
  /** Keys the access model remembers (least recently read forgotten first). Default 1000. */
  maxKeys?: number;
  /** Preloads running at once. Default 4. */
  maxInFlight?: number;
  /** Preloads are at most this share of all loader calls in a minute. Default 0.5. */
  maxShare?: number;
  /** Times a transition must have been seen before it is acted on. Default 4. */
  minCount?: number;
  /** Share of a key's observed transitions the predicted one must hold. Default 0.6. */
  minConfidence?: number;
}

export interface HotKeyOptions {
  /** Reads from L2 per minute above which a key is kept in L1 though its namespace says `l1: false`. Default 60. */
  threshold?: number;
  /** Keys counted at once. Default 1000. */
  maxKeys?: number;
}

export interface CacheOptions {
  /** A Redis URL or an ioredis client (without keyPrefix). Without it the cache is in-memory only. */
  redis?: string | RedisClient;
  /** Forced on every Redis key and pattern. Default: the app's namespace, `routelens:<app name>:` (docs/cache.md). */
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
  namespaces?: Record<string, NamespaceOptions>;
  /** With Redis: how long an L1 copy may live before L2 is asked again (ms). Default 60 000. */
  l1Ttl?: number;
  /** Budget for each Redis call (ms). Default 50. */
  timeout?: number;
  /** Default stale-while-revalidate window (ms). Default 0. */
  grace?: number;
  /** Gzip L2 payloads longer than this many bytes. Default: off. */
  compressAbove?: number;
  warmers?: Record<string, Warmer | ScheduledWarmer>;
  /** Run every warmer at start (in the background). Default false. ROUTELENS_CACHE_WARM=0 turns start and scheduled runs off, =1 on. */
  warmOnStart?: boolean;
  /** Bounds of predictive preloading (which reads take part: `predictive` per call or namespace). */
  predictive?: PredictiveOptions;
  hotKeys?: HotKeyOptions;
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
  source?: 'app' | 'editor' | 'http';
}

export type InvalidateTarget = { key: string } | { pattern: string } | { tag: string };

export type CacheInspection = CommandResults['cache.inspect'];

export interface Cache {
  /** A fresh value, or undefined. */
  get<T = unknown>(key: string, options?: GetOptions): Promise<T | undefined>;
  /** Fresh values in the keys' order (undefined where absent): L1 first, then one L2 round trip (MGET) for the rest. */
  getMany<T = unknown>(keys: readonly string[]): Promise<Array<T | undefined>>;
  set(key: string, value: unknown, options?: SetOptions): Promise<void>;
  /** Writes every entry (all validated first): L1, then one L2 round trip (a pipeline) and one message to peers. */
  setMany(entries: readonly CacheEntry[]): Promise<void>;
  /** True when the key was present (in either tier). */
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  /** Cached value, or the loader's (run once per key at a time); stale within grace while one refresh runs. */
  getOrSet<T>(key: string, loader: () => T | Promise<T>, options?: GetOrSetOptions): Promise<T>;
  /** Registers the loader of every key a glob matches (`users:*`), for predictive preloading. Later registrations win. */
  register(pattern: string, loader: KeyLoader, options?: SetOptions): void;
  invalidate(target: InvalidateTarget, options?: InvalidateOptions): Promise<InvalidateResult>;
  /** Drops the response-cache entries of one route template (`/users/:id`), under every query string and vary value. */
  invalidateRoute(template: string, options?: InvalidateOptions): Promise<InvalidateResult>;
  /** Removes a namespace's keys (`ns:*`); '' removes every key. */
  clearNamespace(namespace: string, options?: { dryRun?: boolean; source?: 'app' | 'editor' | 'http' }): Promise<InvalidateResult>;
  keys(options?: { pattern?: string; cursor?: string; limit?: number }): Promise<{ keys: CacheKeyInfo[]; cursor: string | null }>;
  /** The value as JSON text truncated to 8 KiB, or undefined when absent. */
  inspect(key: string): Promise<CacheInspection | undefined>;
  warm(name: string): Promise<{ name: string; loaded: number }>;
  stats(): CacheStats;
  takeEvents(): { events: CacheEvent[]; dropped: number };
  /** Events after `cursor` and how many of them this reader missed, without consuming them; no cursor: none, and where the log stands. */
  readEvents(cursor?: EventCursor): EventRead;
  takeChanged(): boolean;
  /** Grows when the stats change; any number of readers compare it with the value they last saw. */
  revision(): number;
  close(): Promise<void>;
}
