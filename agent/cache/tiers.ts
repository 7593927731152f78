/**
 * The data path's two tiers: L1 (lru-caches per priority, bounded by entries
 * and bytes, see l1.ts) in front of L2 (Redis, optional), with the peer
 * messages that keep other instances' L1 in step. A lookup asks L1, then L2; a
 * write goes to L1, then L2 and the channel. A namespace with `l1: false`
 * skips L1 while Redis is there, except for hot keys (hot.ts). Nothing here
 * validates a caller's key (the Cache does that once); `store` validates what
 * it is asked to write.
 */
import type { RedisState } from '../../protocol';
import type { RedisClient } from '../api-types';
import { RouteLensError } from '../errors';
import type { Clock } from '../internal';
import type { Diagnostics } from '../log';
import { asIoredis } from '../redis';
import { cacheSpan } from '../spans/cache';
import { classify, type Entry, type Found, type Freshness } from './entry';
import { decodeEnvelope, encodeEnvelope } from './envelope';
import { compileGlob, validatePattern } from './glob';
import { truncate } from '../text';
import { serialise } from './json';
import { HotKeys } from './hot';
import { PriorityL1 } from './l1';
import { FAIL, L2 } from './l2';
import { checkPriority, checkTags, checkTtl, namespaceOf, type Resolved } from './options';
import { decodePeerMessage, encodePeerMessage, type PeerInvalidation } from './peers';
import { TagStamps } from './tags';
import type { CacheTelemetry } from './telemetry';
import type { GetOrSetOptions, Priority } from './types';

/** What L1 holds for a key before L2 is asked: a fresh entry, or what to fall back on. */
export interface L1State {
  fresh?: Found;
  stale?: Found;
  /** An L1 copy past its backstop: L2 is asked first, but the copy is served when L2 cannot answer. */
  backstop?: Entry;
}

const NOTHING: L1State = Object.freeze({});

/** A value checked and serialised for a write, before it goes to either tier. */
export interface Prepared {
  key: string;
  entry: Entry;
  text: string;
  /** Redis PX (ttl + grace), 0 = none. */
  px: number;
  priority: Priority;
}

const MAX_PENDING = 1_000;
const PENDING_BATCH = 200;

export class Tiers {
  readonly lru: PriorityL1;
  /** Read counts of keys in namespaces that skip L1; undefined when none does (or without Redis). */
  readonly hot: HotKeys | undefined;
  private readonly skipL1: Set<string> | undefined;
  readonly l2: L2 | undefined;
  /** Redis key of a cache key's value: `<prefix>d:<key>`. */
  readonly dataPrefix: string;
  /** Redis key of a tag's set of data keys: `<prefix>t:<tag>`. */
  readonly tagPrefix: string;
  readonly tags = new TagStamps();
  closed = false;
  private readonly pending = new Set<string>();
  /** Bumped by every peer message: an L2 read that a message overtook is returned but not copied into L1. */
  private peerSeq = 0;
  private redisState: RedisState = 'none';

  constructor(
    private readonly o: Resolved,
    redis: string | RedisClient | undefined,
    private readonly telemetry: CacheTelemetry,
    private readonly diag: Diagnostics | undefined,
    private readonly clock: Clock,
  ) {
    this.dataPrefix = `${o.prefix}d:`;
    this.tagPrefix = `${o.prefix}t:`;
    this.lru = new PriorityL1(o.maxEntries, o.maxBytes, (e, key, reason) => {
      e.ns.entries--;
      if (reason === 'evict') this.telemetry.evicted(key, e.ns.namespace);
    });
    const skip = redis === undefined ? [] : [...o.namespaces].filter(([, p]) => !p.l1).map(([ns]) => ns);
    this.skipL1 = skip.length > 0 ? new Set(skip) : undefined;
    this.hot = skip.length > 0 ? new HotKeys(o.hotKeys.threshold, o.hotKeys.maxKeys) : undefined;
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
        // The subscriber (re)subscribed: invalidations sent meanwhile are lost, so nothing in L1 can be trusted.
        onSubscribed: () => this.lru.clear(),
      });
    }
  }

  classify(e: Entry, now: number): Freshness {
    return classify(e, now, this.tags);
  }

  // ------------------------------------------------------------ reads

  /**
   * The best entry for a key: fresh from L1, else from L2 (copied into L1),
   * else a stale one within grace. Dead entries are removed (counted as expiries).
   * `count`: the caller serves what it finds, so a stale L2 copy is worth keeping in L1 too.
   * `priority`: of the L1 copy an L2 hit makes (default: the namespace's).
   */
  async lookup(key: string, now: number, count: boolean, priority?: Priority): Promise<Found | undefined> {
    const s = this.l1State(key, now);
    if (s.fresh !== undefined) return s.fresh;
    if (this.l2 === undefined || !this.l2.available()) return this.fallback(s);
    const seq = this.peerSeq;
    const l2 = this.l2;
    const raw = await cacheSpan('l2 get', key, true, () => l2.get(this.dataPrefix + key));
    if (raw === FAIL) return this.fallback(s);
    return this.fromL2(key, raw, now, count, seq, s, priority);
  }

  /** What L1 holds for a key; dead and obsolete copies are dropped. */
  l1State(key: string, now: number): L1State {
    const e = this.lru.peek(key);
    if (e === undefined) return NOTHING;
    const state = this.classify(e, now);
    if (state === 'fresh') return { fresh: { entry: e, tier: 'l1', stale: false } };
    if (state === 'stale') return { stale: { entry: e, tier: 'l1', stale: true } };
    if (state === 'backstop') return { backstop: e };
    this.dropL1(key, e, state, now);
    return NOTHING;
  }

  /** What is served when L2 cannot answer: the backstop copy, else a stale one. */
  fallback(s: L1State): Found | undefined {
    return s.backstop !== undefined ? { entry: s.backstop, tier: 'l1', stale: false } : s.stale;
  }

  /** Peer messages seen so far: pass the value read before an L2 call to `fromL2`. */
  get seq(): number {
    return this.peerSeq;
  }

  /** Merges L2's answer for a key (null: absent) with what L1 held (`s`), copying a usable L2 entry into L1. */
  async fromL2(key: string, raw: Buffer | null, now: number, count: boolean, seq: number, s: L1State, priority: Priority | undefined): Promise<Found | undefined> {
    if (s.backstop !== undefined && this.lru.peek(key) === s.backstop) this.lru.delete(key);
    let stale = s.stale;
    if (raw === null) return stale;
    const entry = await this.decode(key, raw, now);
    if (entry === undefined) return stale;
    const state = this.classify(entry, now);
    if (state === 'fresh' || (state === 'stale' && (stale === undefined || entry.createdAt > stale.entry.createdAt))) {
      // A peer message that arrived while the GET was in flight may have invalidated what it returned.
      if ((count || state === 'fresh') && seq === this.peerSeq) this.copyToL1(key, entry, now, priority, s.backstop);
      if (state === 'fresh') return { entry, tier: 'l2', stale: false };
      stale = { entry, tier: 'l2', stale: true };
    }
    return stale;
  }

  /** An L2 read's copy into L1, unless its namespace keeps values out of L1 and the key is not hot. */
  private copyToL1(key: string, entry: Entry, now: number, priority: Priority | undefined, previous: Entry | undefined): void {
    const ns = namespaceOf(key);
    if (this.hot !== undefined && this.skipsL1(ns)) {
      // The previous copy's L1 hits count as reads: a promoted key that stays hot stays in L1.
      if (!this.hot.read(key, now, 1 + (previous?.hits ?? 0))) return;
      if (previous === undefined) this.hot.promoted();
    }
    this.insertL1(key, entry, priority ?? this.o.namespaces.get(ns)?.priority ?? 'normal');
  }

  private skipsL1(ns: string): boolean {
    return this.skipL1 !== undefined && this.skipL1.has(ns);
  }

  /** A fresh value exists (in either tier). */
  async has(key: string): Promise<boolean> {
    const found = await this.lookup(key, this.clock(), false);
    return found !== undefined && !found.stale;
  }

  private dropL1(key: string, e: Entry, why: Freshness, now: number): void {
    this.lru.delete(key);
    if (why === 'dead') this.telemetry.expired(key, e.ns.namespace, now);
  }

  private insertL1(key: string, e: Entry, priority: Priority): void {
    if (e.size > this.o.maxEntryBytes) return;
    if (this.l2 !== undefined && this.o.l1Ttl > 0) e.l1Until = this.clock() + this.o.l1Ttl;
    e.ns.entries++;
    this.lru.set(key, e, priority);
  }

  /** An L2 payload as an entry, or undefined (reported as an error event) when it cannot be read. */
  async decode(key: string, raw: Buffer, now: number): Promise<Entry | undefined> {
    try {
      const d = await decodeEnvelope(raw, now);
      // Same property order as store()'s literal: one object shape for every entry on the hot path.
      return { value: d.value, size: d.size, expiresAt: d.expiresAt, staleUntil: d.staleUntil, l1Until: 0, createdAt: d.createdAt, tags: d.tags, ns: this.telemetry.namespace(namespaceOf(key)), hits: 0 };
    } catch (err) {
      this.telemetry.error(`undecodable L2 entry: ${err instanceof Error ? err.message : String(err)}`, key);
      return undefined;
    }
  }

  // ------------------------------------------------------------ writes

  /**
   * Validates and writes both tiers; throws INVALID_OPTION for values that cannot be cached.
   * `createdAt` is when the value was produced (a load's start); `grace` overrides the options' one.
   */
  async store(key: string, value: unknown, options: GetOrSetOptions, createdAt: number, grace: number | undefined): Promise<void> {
    const p = this.prepare(key, value, options, createdAt, grace);
    const l2 = this.writeL1(p);
    if (l2 === undefined) return;
    const dataKey = this.dataPrefix + key;
    const encoded = this.payload(p);
    const payload = Buffer.isBuffer(encoded) ? encoded : await encoded;
    const [written] = await Promise.all([
      l2.set(dataKey, payload, p.px, this.tagKeys(p.entry.tags)),
      this.publish({ sender: this.o.instanceId, keys: [key] }),
    ]);
    if (written === FAIL) this.remember(dataKey);
  }

  /** Checks and serialises a write (throws INVALID_OPTION for what cannot be cached); touches neither tier. */
  prepare(key: string, value: unknown, options: GetOrSetOptions, createdAt: number, grace: number | undefined): Prepared {
    const ttlOpt = checkTtl('ttl', options.ttl);
    const tags = checkTags(options.tags);
    const given = checkPriority('priority', options.priority);
    const text = serialise(value);
    if (text instanceof Error) throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `cannot cache "${truncate(key, 64, '')}": ${text.message}`);
    if (text.length > this.o.maxEntryBytes) {
      throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `cannot cache "${truncate(key, 64, '')}": value is ${text.length} bytes, maxEntryBytes is ${this.o.maxEntryBytes}`);
    }
    const nsName = namespaceOf(key);
    const policy = this.o.namespaces.get(nsName);
    const ttl = ttlOpt ?? policy?.ttl ?? this.o.ttl;
    const g = grace ?? checkTtl('grace', options.grace) ?? this.o.grace;
    const now = this.clock();
    const expiresAt = ttl > 0 ? now + ttl : 0;
    const staleUntil = ttl > 0 ? expiresAt + g : 0;
    const entry: Entry = { value: JSON.parse(text), size: Math.max(1, text.length), expiresAt, staleUntil, l1Until: 0, createdAt, tags, ns: this.telemetry.namespace(nsName), hits: 0 };
    return { key, entry, text, px: ttl > 0 ? ttl + g : 0, priority: given ?? policy?.priority ?? 'normal' };
  }

  /**
   * Writes a prepared value to L1 (or, for a namespace that skips L1, drops the old copy unless the key is
   * promoted) and counts the write. Returns the L2 to write to, or undefined (no Redis, or unavailable:
   * then the key is remembered, and kept in L1 whatever its namespace says, so the write is not lost).
   */
  writeL1(p: Prepared): L2 | undefined {
    const l2 = this.l2 !== undefined && this.l2.available() ? this.l2 : undefined;
    const nsName = namespaceOf(p.key);
    const keepOut = l2 !== undefined && this.skipsL1(nsName) && this.lru.peek(p.key) === undefined;
    if (!keepOut) this.insertL1(p.key, p.entry, p.priority);
    this.telemetry.stored(p.key, nsName, this.clock());
    if (this.l2 !== undefined && l2 === undefined) this.remember(this.dataPrefix + p.key);
    return l2;
  }

  /** The L2 payload of a prepared value: a Buffer, or a promise of one when it is gzipped (in the thread pool). */
  payload(p: Prepared): Buffer | Promise<Buffer> {
    return encodeEnvelope(p.entry, p.text, this.o.compressAbove);
  }

  /** Redis keys of an entry's tag sets. */
  tagKeys(tags: string[] | undefined): string[] {
    return tags ? tags.map((t) => this.tagPrefix + t) : [];
  }

  /** Keys whose L2 write failed (see `remember`). */
  failed(dataKey: string): void {
    this.remember(dataKey);
  }

  /** Drops a key from both tiers and tells the peers; true when it was present. `event`: peers show it as an invalidation. */
  async removeKey(key: string, event?: PeerInvalidation['event']): Promise<boolean> {
    let removed = this.lru.delete(key);
    if (this.l2 !== undefined) {
      const dataKey = this.dataPrefix + key;
      const [n] = await Promise.all([this.l2.unlink([dataKey]), this.publish({ sender: this.o.instanceId, keys: [key], event })]);
      if (n === FAIL) this.remember(dataKey);
      else if (n > 0) removed = true;
    }
    return removed;
  }

  /** Drops (or, for a dry run, counts) the L1 keys a glob matches. */
  removeL1Matching(pattern: string, dryRun: boolean): number {
    const match = compileGlob(pattern);
    const hits: string[] = [];
    for (const key of this.lru.keys()) if (match(key)) hits.push(key);
    if (!dryRun) for (const key of hits) this.lru.delete(key);
    return hits.length;
  }

  /** Keys whose L2 write or delete failed: their L2 copy may be stale, so they are unlinked once Redis is back. */
  private remember(dataKey: string): void {
    if (this.pending.size < MAX_PENDING) this.pending.add(dataKey);
  }

  private async flushPending(): Promise<void> {
    if (this.l2 === undefined || this.pending.size === 0) return;
    const keys = [...this.pending];
    this.pending.clear();
    for (let i = 0; i < keys.length; i += PENDING_BATCH) {
      const batch = keys.slice(i, i + PENDING_BATCH);
      const n = await this.l2.unlink(batch);
      if (n === FAIL) {
        for (const k of keys.slice(i)) this.remember(k);
        return;
      }
      await this.publish({ sender: this.o.instanceId, keys: batch.map((k) => k.slice(this.dataPrefix.length)) });
    }
  }

  // ------------------------------------------------------------ peers and Redis state

  async publish(message: PeerInvalidation): Promise<void> {
    if (this.l2 === undefined || !this.l2.available()) return;
    await this.l2.publish(encodePeerMessage(message));
  }

  private onPeerMessage(text: string): void {
    const m = decodePeerMessage(text);
    if (m === undefined || m.sender === this.o.instanceId) return;
    this.peerSeq++;
    try {
      if (m.keys !== undefined) for (const key of m.keys) this.lru.delete(key);
      if (m.pattern !== undefined) {
        validatePattern(m.pattern);
        this.removeL1Matching(m.pattern, false);
      }
      if (m.tag !== undefined) {
        const tag = m.tag;
        this.tags.stamp(tag, m.tagStamp ?? this.clock());
        for (const [key, e] of [...this.lru.entries()]) if (e.tags?.includes(tag)) this.lru.delete(key);
      }
      if (m.clearAll) this.lru.clear();
      if (m.event !== undefined) this.telemetry.invalidated(m.event.by, m.event.target, 'peer', 0);
    } catch (err) {
      // A message we cannot apply (a refused pattern) is a lost invalidation: trust nothing in L1.
      this.diag?.failure('cache.peer-message', err);
      this.lru.clear();
    }
  }

  private onRedisState(s: RedisState): void {
    const previous = this.redisState;
    this.redisState = s;
    this.telemetry.connection(s);
    if (s === 'down') this.diag?.warnOnce('ROUTELENS_WARN_CACHE_REDIS_DOWN', 'cache: Redis is unreachable; serving from memory');
    if (s === 'ready' && previous !== 'ready') void this.flushPending();
  }

  private onL2Error(message: string): void {
    this.diag?.failure('cache.l2', new Error(message));
    this.telemetry.error(`redis: ${message}`, undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.l2?.close();
    this.lru.clear();
    this.hot?.clear();
  }
}
