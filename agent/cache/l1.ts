/**
 * L1: three lru-caches, one per priority, under one shared budget of entries
 * and bytes. Each lru-cache keeps its own recency order; when the shared
 * budget is exceeded, the least recently used entry of the lowest non-empty
 * priority goes first (low, then normal, then high), so a low-priority write
 * never pushes out a normal or high one. Eviction is lru-cache's own (`pop`),
 * reported through the one `dispose` callback all three share.
 *
 * Reads try normal first (the usual priority: one lookup on a hit), then high,
 * then low. A key lives in exactly one of the three.
 *
 * Each lru-cache is made by the first write of its priority: lru-cache allocates its
 * arrays for `max` entries up front (about 0.25 MB each at the default 10,000), which an
 * app that never uses a priority (or the cache) should not hold.
 */
import type { LRUCache } from 'lru-cache';
import { lruCache } from './lru';
import type { Entry } from './entry';
import type { Priority } from './types';

/** Eviction order: the first is emptied first. */
const EVICTION_ORDER: readonly Priority[] = ['low', 'normal', 'high'];

/** What L1 uses of an lru-cache. */
type Tier = Pick<LRUCache<string, Entry>, 'get' | 'peek' | 'has' | 'set' | 'delete' | 'clear' | 'entries' | 'pop' | 'size' | 'calculatedSize'>;

/** A priority nothing was written to yet: no lru-cache, nothing in it. */
const EMPTY: Tier = {
  get: () => undefined,
  peek: () => undefined,
  has: () => false,
  set(): never {
    throw new Error('L1: a write to a priority not made yet');
  },
  delete: () => false,
  clear() {},
  entries: () => [][Symbol.iterator]() as ReturnType<Tier['entries']>,
  pop: () => undefined,
  size: 0,
  calculatedSize: 0,
};

export class PriorityL1 {
  private normal: Tier = EMPTY;
  private high: Tier = EMPTY;
  private low: Tier = EMPTY;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    private readonly dispose: (e: Entry, key: string, reason: LRUCache.DisposeReason) => void,
  ) {}

  private tier(priority: Priority): Tier {
    return priority === 'normal' ? this.normal : priority === 'high' ? this.high : this.low;
  }

  /** The priority's lru-cache, made now if nothing was written to it yet. */
  private made(priority: Priority): Tier {
    const t = this.tier(priority);
    if (t !== EMPTY) return t;
    const made = new (lruCache())<string, Entry>({ max: this.maxEntries, maxSize: this.maxBytes, sizeCalculation: (e) => e.size, dispose: this.dispose });
    if (priority === 'normal') this.normal = made;
    else if (priority === 'high') this.high = made;
    else this.low = made;
    return made;
  }

  get size(): number {
    return this.normal.size + this.high.size + this.low.size;
  }

  get calculatedSize(): number {
    return this.normal.calculatedSize + this.high.calculatedSize + this.low.calculatedSize;
  }

  /** Entries per priority (for stats). */
  counts(): Record<Priority, number> {
    return { high: this.high.size, normal: this.normal.size, low: this.low.size };
  }

  /** The entry, marked recently used. */
  get(key: string): Entry | undefined {
    return this.normal.get(key) ?? this.high.get(key) ?? this.low.get(key);
  }

  /** The entry, recency unchanged. */
  peek(key: string): Entry | undefined {
    return this.normal.peek(key) ?? this.high.peek(key) ?? this.low.peek(key);
  }

  has(key: string): boolean {
    return this.normal.has(key) || this.high.has(key) || this.low.has(key);
  }

  /** Stores under a priority (moving the key out of any other one), then evicts by priority until the shared budget holds. */
  set(key: string, e: Entry, priority: Priority): void {
    const target = this.made(priority);
    for (const p of EVICTION_ORDER) if (p !== priority) this.tier(p).delete(key);
    target.set(key, e);
    this.enforce();
  }

  delete(key: string): boolean {
    // Not short-circuited: a key is in at most one, and each delete is a map lookup.
    const a = this.normal.delete(key);
    const b = this.high.delete(key);
    const c = this.low.delete(key);
    return a || b || c;
  }

  clear(): void {
    this.normal.clear();
    this.high.clear();
    this.low.clear();
  }

  *entries(): Generator<[string, Entry]> {
    yield* this.high.entries();
    yield* this.normal.entries();
    yield* this.low.entries();
  }

  *keys(): Generator<string> {
    for (const [k] of this.entries()) yield k;
  }

  private enforce(): void {
    while (this.size > this.maxEntries || this.calculatedSize > this.maxBytes) {
      const victim = EVICTION_ORDER.find((p) => this.tier(p).size > 0);
      if (victim === undefined) return;
      this.tier(victim).pop();
    }
  }
}
