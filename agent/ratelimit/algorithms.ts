/**
 * The three counting algorithms, in memory (this file) and in Redis (Lua, in
 * stores.ts). Both return the same two figures for one hit of `points`
 * (1 for a request; `limiter.consume(key, points)` may take more):
 *
 *  - `hits`: the express-rate-limit "totalHits". A hit is limited when
 *    `hits > max`; `max - hits` is what the `remaining` header shows.
 *  - `ms`: milliseconds until the quota resets (allowed) or until the next
 *    request can pass (limited) — what `reset` / `Retry-After` show.
 *
 * A peek (`limiter.check`) counts nothing and returns what is left now and
 * `ms`: until `points` fit when they do not, else until the quota resets
 * (0 when nothing is counted).
 *
 * fixed-window   one counter per key, reset `windowMs` after the key's first hit;
 *                limited hits are counted too (as in express-rate-limit's store).
 * sliding-window the previous and current aligned windows, the previous one
 *                weighted by how much of it still overlaps the sliding window
 *                (Cloudflare's approximation); limited hits are not counted.
 * token-bucket   `max` tokens, refilled continuously at `max` per `windowMs`;
 *                a hit takes one token; limited hits take none.
 */
import type { Clock } from '../internal';

export type Algorithm = 'fixed-window' | 'sliding-window' | 'token-bucket';
export const ALGORITHMS: readonly Algorithm[] = ['fixed-window', 'sliding-window', 'token-bucket'];

/** Tolerance for floating-point comparisons in the weighted algorithms. */
const EPS = 1e-9;

/** One key's state; the meaning of a, b, c depends on the algorithm (one shape keeps the map monomorphic). */
class Entry {
  constructor(
    /** fixed: count · sliding: window index · token: tokens */
    public a: number,
    /** fixed: reset time · sliding: current count · token: last refill time */
    public b: number,
    /** sliding: previous window's count */
    public c: number,
  ) {}
}

/** Milliseconds a sliding-window client must wait before `points` more fit (more than `max` never fit: the rest of the window). */
export function slidingWait(previous: number, current: number, max: number, windowMs: number, elapsed: number, points = 1): number {
  const left = windowMs - elapsed;
  if (max < points) return left;
  if (current + points <= max && previous > 0) {
    // Within this window, once enough of the previous one has slid out.
    const need = Math.ceil(windowMs * (1 - (max - current - points) / previous)) - elapsed;
    if (need <= left) return Math.max(1, need);
  }
  // In the next window, once enough of this one has slid out.
  const next = current > 0 ? Math.max(0, Math.ceil(windowMs * (1 - (max - points) / current))) : 0;
  return left + next;
}

/**
 * An in-memory counter bounded to `maxKeys` keys whatever keys arrive: when
 * full, the entry inserted (or last rolled over) longest ago is evicted and
 * counted. No timer per key (rate-limiter-flexible's and express-rate-limit's
 * memory stores keep one entry per key for a whole window, unbounded).
 */
export class MemoryCounter {
  private readonly map = new Map<string, Entry>();
  /** Entries evicted to stay within maxKeys. */
  evictions = 0;
  /** `ms` of the last hit or peek (see the file comment); read right after the call. */
  ms = 0;
  /** Counts `points` (default 1) on `key`; returns `hits`. */
  readonly hit: (key: string, points?: number) => number;

  constructor(
    readonly algorithm: Algorithm,
    readonly windowMs: number,
    public max: number,
    private readonly clock: Clock,
    readonly maxKeys: number,
  ) {
    switch (algorithm) {
      case 'fixed-window':
        this.hit = (key, points = 1) => this.fixed(key, points);
        break;
      case 'sliding-window':
        this.hit = (key, points = 1) => this.sliding(key, points);
        break;
      case 'token-bucket':
        this.hit = (key, points = 1) => this.token(key, points);
        break;
    }
  }

  get size(): number {
    return this.map.size;
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  private insert(key: string, entry: Entry): void {
    if (this.map.size >= this.maxKeys) {
      const oldest = this.map.keys().next();
      if (oldest.done !== true) {
        this.map.delete(oldest.value);
        this.evictions++;
      }
    }
    this.map.set(key, entry);
  }

  /** Moves an entry to the young end so eviction prefers idle keys. */
  private touch(key: string, entry: Entry): void {
    this.map.delete(key);
    this.map.set(key, entry);
  }

  /** What is left for `key` now, counting nothing; sets `ms` (see the file comment). Never inserts or moves an entry. */
  peek(key: string, points: number): number {
    const now = this.clock();
    const { max, windowMs } = this;
    const entry = this.map.get(key);
    switch (this.algorithm) {
      case 'fixed-window': {
        const live = entry !== undefined && entry.b > now;
        const remaining = Math.max(0, max - (live ? entry.a : 0));
        this.ms = live ? entry.b - now : remaining >= points ? 0 : windowMs;
        return remaining;
      }
      case 'sliding-window': {
        const windowIndex = Math.floor(now / windowMs);
        const current = entry?.a === windowIndex ? entry.b : 0;
        const previous = entry === undefined ? 0 : entry.a === windowIndex ? entry.c : entry.a === windowIndex - 1 ? entry.b : 0;
        const elapsed = now - windowIndex * windowMs;
        const weighted = (previous * (windowMs - elapsed)) / windowMs + current;
        const remaining = Math.max(0, Math.floor(max - weighted + EPS));
        if (remaining < points) this.ms = slidingWait(previous, current, max, windowMs, elapsed, points);
        else this.ms = weighted > 0 ? windowMs - elapsed : 0;
        return remaining;
      }
      case 'token-bucket': {
        if (max <= 0) {
          this.ms = windowMs;
          return 0;
        }
        const rate = max / windowMs;
        const tokens = entry === undefined ? max : Math.min(max, entry.a + Math.max(0, now - entry.b) * rate);
        const remaining = Math.floor(tokens + EPS);
        this.ms = Math.ceil((remaining < points ? points - tokens : max - tokens) / rate);
        return remaining;
      }
    }
  }

  /** Entry: a = count, b = reset time. */
  private fixed(key: string, points: number): number {
    const now = this.clock();
    let entry = this.map.get(key);
    if (entry === undefined) {
      entry = new Entry(0, now + this.windowMs, 0);
      this.insert(key, entry);
    } else if (entry.b <= now) {
      entry.a = 0;
      entry.b = now + this.windowMs;
      this.touch(key, entry);
    }
    entry.a += points;
    this.ms = entry.b - now;
    return entry.a;
  }

  /** Entry: a = current window's index, b = its count, c = the previous window's count. */
  private sliding(key: string, points: number): number {
    const now = this.clock();
    const windowMs = this.windowMs;
    const max = this.max;
    const windowIndex = Math.floor(now / windowMs);
    let entry = this.map.get(key);
    if (entry === undefined) {
      entry = new Entry(windowIndex, 0, 0);
      this.insert(key, entry);
    } else if (entry.a !== windowIndex) {
      entry.c = entry.a === windowIndex - 1 ? entry.b : 0;
      entry.b = 0;
      entry.a = windowIndex;
      this.touch(key, entry);
    }
    const elapsed = now - windowIndex * windowMs;
    const weighted = (entry.c * (windowMs - elapsed)) / windowMs + entry.b;
    if (weighted + points <= max + EPS) {
      entry.b += points;
      this.ms = windowMs - elapsed;
      return max - Math.floor(max - weighted - points + EPS);
    }
    this.ms = slidingWait(entry.c, entry.b, max, windowMs, elapsed, points);
    return max + 1;
  }

  /** Entry: a = tokens, b = last refill time. */
  private token(key: string, points: number): number {
    const now = this.clock();
    const max = this.max;
    const windowMs = this.windowMs;
    if (max <= 0) {
      this.ms = windowMs;
      return 1;
    }
    const rate = max / windowMs;
    let entry = this.map.get(key);
    if (entry === undefined) {
      entry = new Entry(max, now, 0);
      this.insert(key, entry);
    }
    let tokens = Math.min(max, entry.a + Math.max(0, now - entry.b) * rate);
    entry.b = now;
    if (tokens >= points - EPS) {
      tokens = Math.max(0, tokens - points);
      entry.a = tokens;
      this.ms = Math.ceil((max - tokens) / rate);
      return max - Math.floor(tokens + EPS);
    }
    entry.a = tokens;
    this.ms = Math.ceil((points - tokens) / rate);
    return max + 1;
  }
}
