/**
 * Hot-key promotion: reads per minute of the keys whose namespace keeps them
 * out of L1 (`namespaces.<ns>.l1: false`). A key read more than `threshold`
 * times in a minute is promoted: its L2 copy is kept in L1 anyway. Reads are
 * counted in two one-minute buckets per key (the previous minute's count,
 * weighted by how much of it is still inside the last 60 s, plus the current
 * one's), and the keys counted are capped (least recently read forgotten).
 *
 * A promoted copy is served from L1 until its `l1Ttl` backstop; its L1 hits
 * are added to the count when it is re-read from L2, so a key that stays hot
 * stays promoted and one that cooled down goes back to L2 only.
 */
import type { LRUCache } from 'lru-cache';
import { lruCache } from './lru';

const MINUTE = 60_000;

interface Rate {
  /** Start of the current minute bucket. */
  start: number;
  current: number;
  previous: number;
}

export class HotKeys {
  private readonly rates: LRUCache<string, Rate>;
  /** Promotions so far. */
  promotions = 0;

  constructor(
    private readonly threshold: number,
    maxKeys: number,
  ) {
    this.rates = new (lruCache())<string, Rate>({ max: maxKeys });
  }

  /** Counts `reads` reads of a key at `now`; true when the key is now hot (more than `threshold` per minute). */
  read(key: string, now: number, reads = 1): boolean {
    let r = this.rates.get(key);
    if (r === undefined) {
      r = { start: now, current: 0, previous: 0 };
      this.rates.set(key, r);
    } else if (now - r.start >= MINUTE) {
      r.previous = now - r.start >= 2 * MINUTE ? 0 : r.current;
      r.start = now - ((now - r.start) % MINUTE);
      r.current = 0;
    }
    r.current += reads;
    return this.rate(r, now) > this.threshold;
  }

  /** Reads over the last 60 s (the previous bucket weighted by its overlap). */
  private rate(r: Rate, now: number): number {
    const into = Math.min(1, Math.max(0, (now - r.start) / MINUTE));
    return r.current + r.previous * (1 - into);
  }

  promoted(): void {
    this.promotions++;
  }

  forget(key: string): void {
    this.rates.delete(key);
  }

  clear(): void {
    this.rates.clear();
  }
}
