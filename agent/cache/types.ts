/**
 * The cache's public types: what `createCache` takes and what a `Cache` does.
 * Internal shapes (entries, wire formats, resolved options) live beside the
 * code that uses them; this file imports only the protocol's types and the
 * structural client type, so the published declarations stay self-contained.
 */
import type { RedisClient } from '../api-types';
import type { CacheEvent, CacheKeyInfo, CacheStats, CommandResults, InvalidateResult } from '../../protocol';

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
  source?: 'app' | 'editor';
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
  clearNamespace(namespace: string, options?: { dryRun?: boolean; source?: 'app' | 'editor' }): Promise<InvalidateResult>;
  keys(options?: { pattern?: string; cursor?: string; limit?: number }): Promise<{ keys: CacheKeyInfo[]; cursor: string | null }>;
  /** The value as JSON text truncated to 8 KiB, or undefined when absent. */
  inspect(key: string): Promise<CacheInspection | undefined>;
  warm(name: string): Promise<{ name: string; loaded: number }>;
  stats(): CacheStats;
  takeEvents(): { events: CacheEvent[]; dropped: number };
  takeChanged(): boolean;
  close(): Promise<void>;
}
