/**
 * Per-limiter figures: totals, a live 1-minute window (60 one-second buckets),
 * per route and the most limited keys. Every structure is bounded whatever
 * routes or keys arrive.
 */
import type { RateLimitStats } from '../../protocol';

/** Routes kept per limiter; further routes are counted under OVERFLOW_ROUTE. */
export const MAX_ROUTES = 100;
export const OVERFLOW_ROUTE = '(overflow)';
/** Keys tracked by the top-keys counter, and how many are reported. */
export const TOP_KEYS_TRACKED = 64;
export const TOP_KEYS_REPORTED = 20;
/** Keys longer than this are shown truncated. */
const MAX_SHOWN_KEY = 200;
const BUCKETS = 60;

interface RouteCounts {
  allowed: number;
  limited: number;
}

/**
 * Space-Saving top-k (Metwally et al.): at most `capacity` keys; a new key
 * replaces the smallest and inherits its count, so heavy hitters are never
 * missed and counts overestimate by at most the evicted minimum.
 */
export class TopKeys {
  private readonly counts = new Map<string, number>();
  constructor(private readonly capacity: number) {}

  add(key: string): void {
    const k = key.length > MAX_SHOWN_KEY ? `${key.slice(0, MAX_SHOWN_KEY)}…` : key;
    const n = this.counts.get(k);
    if (n !== undefined) {
      this.counts.set(k, n + 1);
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(k, 1);
      return;
    }
    let minKey = '';
    let min = Infinity;
    for (const [candidate, count] of this.counts) {
      if (count < min) {
        min = count;
        minKey = candidate;
      }
    }
    this.counts.delete(minKey);
    this.counts.set(k, min + 1);
  }

  get size(): number {
    return this.counts.size;
  }

  top(n: number): Array<{ key: string; limited: number }> {
    return [...this.counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, limited]) => ({ key, limited }));
  }
}

export class LimiterStats {
  allowed = 0;
  limited = 0;
  storeErrors = 0;
  private readonly windowAllowed = new Uint32Array(BUCKETS);
  private readonly windowLimited = new Uint32Array(BUCKETS);
  private second = -1;
  readonly routes = new Map<string, RouteCounts>();
  readonly topKeys = new TopKeys(TOP_KEYS_TRACKED);

  private advance(now: number): number {
    const second = Math.floor(now / 1000);
    if (second !== this.second) {
      if (second - this.second >= BUCKETS || second < this.second) {
        this.windowAllowed.fill(0);
        this.windowLimited.fill(0);
      } else {
        for (let skipped = this.second + 1; skipped <= second; skipped++) {
          this.windowAllowed[skipped % BUCKETS] = 0;
          this.windowLimited[skipped % BUCKETS] = 0;
        }
      }
      this.second = second;
    }
    return second % BUCKETS;
  }

  private route(id: string): RouteCounts {
    let counts = this.routes.get(id);
    if (counts === undefined) {
      const key = this.routes.size >= MAX_ROUTES ? OVERFLOW_ROUTE : id;
      counts = this.routes.get(key);
      if (counts === undefined) {
        counts = { allowed: 0, limited: 0 };
        this.routes.set(key, counts);
      }
    }
    return counts;
  }

  /** Counts an allowed request; under its route now, or later through attributeAllowed() when `route` is undefined. */
  recordAllowed(now: number, route: string | undefined): void {
    this.allowed++;
    this.windowAllowed[this.advance(now)]++;
    if (route !== undefined) this.route(route).allowed++;
  }

  /** Counts under `route` an allowed request recorded before its route was known. */
  attributeAllowed(route: string): void {
    this.route(route).allowed++;
  }

  recordLimited(now: number, route: string, key: string): void {
    this.limited++;
    this.windowLimited[this.advance(now)]++;
    this.route(route).limited++;
    this.topKeys.add(key);
  }

  window(now: number): { allowed: number; limited: number } {
    this.advance(now);
    let allowed = 0;
    let limited = 0;
    for (let i = 0; i < BUCKETS; i++) {
      allowed += this.windowAllowed[i];
      limited += this.windowLimited[i];
    }
    return { allowed, limited };
  }

  snapshot(now: number, config: Omit<RateLimitStats, 'allowed' | 'limited' | 'storeErrors' | 'window' | 'routes' | 'topKeys'>): RateLimitStats {
    return {
      ...config,
      allowed: this.allowed,
      limited: this.limited,
      storeErrors: this.storeErrors,
      window: this.window(now),
      routes: [...this.routes]
        .map(([route, counts]) => ({ route, allowed: counts.allowed, limited: counts.limited }))
        .sort((a, b) => b.limited - a.limited || b.allowed - a.allowed || (a.route < b.route ? -1 : 1)),
      topKeys: this.topKeys.top(TOP_KEYS_REPORTED),
    };
  }
}
