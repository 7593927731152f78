/**
 * The two-tier cache: L1 in process (lru-cache, bounded by entries and bytes),
 * L2 in Redis (optional, every call bounded, circuit breaker). Without Redis it
 * is a complete in-memory cache. See docs/cache.md for the consistency model,
 * Redis failure behaviour and what each feature costs.
 */
import type { Redis } from 'ioredis';
import type { RedisClient } from '../api-types';
import type { CacheEvent, CacheKeyInfo, CacheStats, CacheTier, InvalidateResult } from '../../protocol';
import { invalidOption, RouteLensError } from '../errors';
import { type Clock, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import { freshInL1 } from './entry';
import { compileGlob, escapeGlob, validatePattern } from './glob';
import { displayJson, truncate } from './json';
import { FAIL } from './l2';
import { Loads } from './loads';
import { checkKey, closedError, MAX_TAG_LENGTH, namespaceOf, type Resolved, resolveOptions } from './options';
import type { PeerInvalidation } from './peers';
import { CacheTelemetry } from './telemetry';
import { Tiers } from './tiers';
import type { Cache, CacheInspection, CacheOptions, GetOrSetOptions, InvalidateOptions, InvalidateTarget, SetOptions, WarmEntry } from './types';

export { validatePattern, compileGlob, escapeGlob } from './glob';
export { createResponseCache, type ResponseCacheOptions } from './response';
export { MAX_KEY_LENGTH } from './options';
export type { Cache, CacheInspection, CacheOptions, GetOrSetOptions, InvalidateOptions, InvalidateTarget, SetOptions, WarmEntry, Warmer } from './types';

const MAX_WARM_ENTRIES = 100_000;
const INSPECT_LIMIT = 8 * 1024;
const SCAN_COUNT = 200;

export function createCache(options: CacheOptions = {}, deps: { diag?: Diagnostics; clock?: Clock } = {}): Cache {
  return new TwoTierCache(resolveOptions(options), options.redis, deps.diag, deps.clock ?? systemClock);
}

class TwoTierCache implements Cache {
  private readonly telemetry: CacheTelemetry;
  private readonly tiers: Tiers;
  private readonly loads: Loads;

  constructor(
    private readonly o: Resolved,
    redis: string | RedisClient | undefined,
    private readonly diag: Diagnostics | undefined,
    private readonly clock: Clock,
  ) {
    this.telemetry = new CacheTelemetry(o.maxEvents, redis !== undefined, clock);
    this.tiers = new Tiers(o, redis, this.telemetry, diag, clock);
    this.loads = new Loads(this.tiers, this.telemetry, clock);
    if (o.warmOnStart) {
      for (const name of o.warmers.keys()) void this.warm(name).catch((err: unknown) => this.diag?.failure('cache.warm', err));
    }
  }

  // ------------------------------------------------------------ hot path

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
      result = dryRun ? { removed: (await this.has(target.key)) ? 1 : 0, dryRun } : { removed: (await this.tiers.removeKey(target.key, { by, target: targetText })) ? 1 : 0, dryRun };
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
    if (!dryRun) this.telemetry.invalidated(by, targetText, source, result.removed);
    return result;
  }

  async clearNamespace(namespace: string, options: { dryRun?: boolean; source?: 'app' | 'editor' } = {}): Promise<InvalidateResult> {
    this.assertOpen();
    if (typeof namespace !== 'string' || namespace.length > 512) throw invalidOption('namespace', 'a string of at most 512 characters', namespace);
    const dryRun = options.dryRun === true;
    const by = namespace === '' ? 'clear' : 'namespace';
    const pattern = namespace === '' ? '*' : `${escapeGlob(namespace)}:*`;
    const result = await this.removePattern(pattern, dryRun, { by, target: namespace === '' ? '*' : namespace });
    // Clearing everything also drops the tag sets and the local tag stamps (nothing is left to tag).
    if (namespace === '' && !dryRun) {
      this.tiers.tags.clear();
      if (this.tiers.l2 !== undefined) await this.scan(`${escapeGlob(this.tiers.tagPrefix)}*`, false);
    }
    if (!dryRun) this.telemetry.invalidated(by, namespace === '' ? '*' : namespace, options.source ?? 'app', result.removed);
    return result;
  }

  private async removePattern(pattern: string, dryRun: boolean, event: PeerInvalidation['event']): Promise<InvalidateResult> {
    const l1 = this.tiers.removeL1Matching(pattern, dryRun);
    if (this.tiers.l2 === undefined) return { removed: l1, dryRun };
    const { count, partial } = await this.scan(escapeGlob(this.tiers.dataPrefix) + pattern, dryRun);
    // Published after L2 is cleaned, so a peer that drops its L1 copy cannot re-read the old value from L2.
    if (!dryRun) await this.tiers.publish({ sender: this.o.instanceId, pattern, event });
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
    const l2 = this.tiers.l2!;
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
    for (const [key, e] of this.tiers.lru.entries()) if (e.tags?.includes(tag) && !this.tiers.tags.obsoletes(e)) hits.push(key);
    const l1 = hits.length;
    if (!dryRun) {
      // The stamp travels with the message, so a peer treats anything produced before it as missing even if it re-reads L2 before the UNLINKs land.
      const ts = this.clock();
      this.tiers.tags.stamp(tag, ts);
      for (const key of hits) this.tiers.lru.delete(key);
      if (this.tiers.l2 !== undefined) await this.tiers.publish({ sender: this.o.instanceId, tag, tagStamp: ts, event: { by: 'tag', target: tag } });
    }
    if (this.tiers.l2 === undefined) return { removed: l1, dryRun };
    const l2 = this.tiers.l2;
    const setKey = this.tiers.tagPrefix + tag;
    const { count, partial } = await this.sweep((c, cursor) => c.sscan(setKey, cursor, 'COUNT', SCAN_COUNT), dryRun, (keys) => l2.run((c) => c.exists(...keys)));
    if (partial) return { removed: Math.max(count, l1), dryRun, partial };
    if (!dryRun) await l2.unlink([setKey]);
    return { removed: count, dryRun };
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
    if (this.tiers.l2 !== undefined && !cursor.startsWith('l1:')) {
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
    for (const [key, e] of this.tiers.lru.entries()) {
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
    const l2 = this.tiers.l2!;
    if (!l2.available()) return undefined;
    if (!/^\d{1,20}$/.test(cursor)) throw invalidOption('cursor', 'a cursor returned by keys()', cursor);
    const match = escapeGlob(this.tiers.dataPrefix) + pattern;
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
    const info = await this.tiers.l2!.run(async (c) => {
      const p = c.pipeline();
      for (const k of unique) p.pttl(k).strlen(k);
      return (await p.exec()) ?? [];
    });
    const keys = unique.map((dataKey, i): CacheKeyInfo => {
      const key = dataKey.slice(this.tiers.dataPrefix.length);
      const ttl = info === FAIL ? undefined : (info[2 * i]?.[1] as number | undefined);
      const size = info === FAIL ? 0 : ((info[2 * i + 1]?.[1] as number | undefined) ?? 0);
      const l1 = this.tiers.lru.peek(key);
      return { key, namespace: namespaceOf(key), tier: l1 ? 'both' : 'l2', ttl: typeof ttl === 'number' && ttl >= 0 ? ttl : undefined, size, tags: l1?.tags };
    });
    return { keys, cursor };
  }

  async inspect(key: string): Promise<CacheInspection | undefined> {
    this.assertOpen();
    const bad = checkKey(key);
    if (bad) throw bad;
    const now = this.clock();
    const l1 = this.tiers.lru.peek(key);
    const l1Fresh = l1 !== undefined && this.tiers.classify(l1, now) !== 'dead' && this.tiers.classify(l1, now) !== 'obsolete';
    let entry = l1Fresh ? l1 : undefined;
    let tier: CacheTier | 'both' = 'l1';
    if (this.tiers.l2 !== undefined && this.tiers.l2.available()) {
      const raw = await this.tiers.l2.get(this.tiers.dataPrefix + key);
      if (raw !== FAIL && raw !== null) {
        if (entry !== undefined) tier = 'both';
        else {
          entry = await this.tiers.decode(key, raw, now);
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
    if (warmer === undefined) throw new RouteLensError('ROUTELENS_ERR_NOT_FOUND', `no cache warmer named "${truncate(String(name), 64).text}"`);
    let entries: Iterable<WarmEntry>;
    try {
      entries = await warmer();
    } catch (err) {
      throw new RouteLensError('ROUTELENS_ERR_LOADER', `cache warmer "${name}" failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    let loaded = 0;
    let seen = 0;
    for (const item of entries) {
      if (++seen > MAX_WARM_ENTRIES || this.tiers.closed) break;
      if (!Array.isArray(item) || checkKey(item[0]) !== undefined) {
        this.telemetry.error(`warmer "${name}" produced an invalid entry`, undefined);
        continue;
      }
      try {
        await this.set(item[0], item[1], item[2]);
        loaded++;
      } catch (err) {
        this.telemetry.error(err instanceof Error ? err.message : String(err), item[0]);
      }
    }
    return { name, loaded };
  }

  // ------------------------------------------------------------ stats

  stats(): CacheStats {
    return this.telemetry.stats({
      enabled: !this.tiers.closed,
      redis: this.tiers.l2 === undefined ? 'none' : this.tiers.l2.state(),
      l2Errors: this.tiers.l2?.errors ?? 0,
      l1: { entries: this.tiers.lru.size, bytes: this.tiers.lru.calculatedSize, maxEntries: this.o.maxEntries, maxBytes: this.o.maxBytes },
      hits: this.tiers.lru.entries(),
      warmers: [...this.o.warmers.keys()],
    });
  }

  takeEvents(): { events: CacheEvent[]; dropped: number } {
    return this.telemetry.events.take();
  }

  takeChanged(): boolean {
    const c = this.telemetry.changed;
    this.telemetry.changed = false;
    return c;
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
