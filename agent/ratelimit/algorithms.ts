/**
 * The three counting algorithms, in memory (this file) and in Redis (Lua, in
 * redis-store.ts). Both return the same two figures for one hit:
 *
 *  - `hits`: the express-rate-limit "totalHits". A hit is limited when
 *    `hits > max`; `max - hits` is what the `remaining` header shows.
 *  - `ms`: milliseconds until the quota resets (allowed) or until the next
 *    request can pass (limited) — what `reset` / `Retry-After` show.
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

/** Milliseconds a sliding-window client must wait before one more hit fits. */
export function slidingWait(prev: number, cur: number, max: number, w: number, elapsed: number): number {
  if (max < 1) return w - elapsed;
  if (cur + 1 <= max && prev > 0) {
    const need = Math.ceil(w * (1 - (max - cur - 1) / prev)) - elapsed;
    if (need <= w - elapsed) return Math.max(1, need);
  }
  const next = cur > 0 ? Math.max(0, Math.ceil(w * (1 - (max - 1) / cur))) : 0;
  return w - elapsed + next;
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
  /** `ms` of the last hit (see the file comment); read right after hit(). */
  ms = 0;
  /** Returns `hits` for one hit on `key`. */
  readonly hit: (key: string) => number;

  constructor(
    readonly algorithm: Algorithm,
    readonly windowMs: number,
    public max: number,
    private readonly clock: Clock,
    readonly maxKeys: number,
  ) {
    switch (algorithm) {
      case 'fixed-window':
        this.hit = (key) => this.fixed(key);
        break;
      case 'sliding-window':
        this.hit = (key) => this.sliding(key);
        break;
      case 'token-bucket':
        this.hit = (key) => this.token(key);
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

  private fixed(key: string): number {
    const now = this.clock();
    let e = this.map.get(key);
    if (e === undefined) {
      e = new Entry(0, now + this.windowMs, 0);
      this.insert(key, e);
    } else if (e.b <= now) {
      e.a = 0;
      e.b = now + this.windowMs;
      this.touch(key, e);
    }
    e.a++;
    this.ms = e.b - now;
    return e.a;
  }

  private sliding(key: string): number {
    const now = this.clock();
    const w = this.windowMs;
    const max = this.max;
    const idx = Math.floor(now / w);
    let e = this.map.get(key);
    if (e === undefined) {
      e = new Entry(idx, 0, 0);
      this.insert(key, e);
    } else if (e.a !== idx) {
      e.c = e.a === idx - 1 ? e.b : 0;
      e.b = 0;
      e.a = idx;
      this.touch(key, e);
    }
    const elapsed = now - idx * w;
    const eff = (e.c * (w - elapsed)) / w + e.b;
    if (eff + 1 <= max + EPS) {
      e.b++;
      this.ms = w - elapsed;
      return max - Math.floor(max - eff - 1 + EPS);
    }
    this.ms = slidingWait(e.c, e.b, max, w, elapsed);
    return max + 1;
  }

  private token(key: string): number {
    const now = this.clock();
    const max = this.max;
    const w = this.windowMs;
    if (max <= 0) {
      this.ms = w;
      return 1;
    }
    const rate = max / w;
    let e = this.map.get(key);
    if (e === undefined) {
      e = new Entry(max, now, 0);
      this.insert(key, e);
    }
    let tokens = Math.min(max, e.a + Math.max(0, now - e.b) * rate);
    e.b = now;
    if (tokens >= 1 - EPS) {
      tokens = Math.max(0, tokens - 1);
      e.a = tokens;
      this.ms = Math.ceil((max - tokens) / rate);
      return max - Math.floor(tokens + EPS);
    }
    e.a = tokens;
    this.ms = Math.ceil((1 - tokens) / rate);
    return max + 1;
  }
}
