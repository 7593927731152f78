/**
 * The access model behind predictive preloading: a first-order model of which
 * key follows which. Every opted-in read is one step of one process-wide
 * sequence (across requests); a read of B within `window` ms after a read of
 * A counts one A → B transition. For each key the model keeps at most
 * MAX_SUCCESSORS successors with their counts (a new one replaces the rarest)
 * and the total of its transitions; counts are halved past AGE_AT so the model
 * follows a pattern that changes. The keys it remembers are capped (an
 * lru-cache: the least recently read is forgotten first).
 *
 * A prediction is the most frequent successor, only when it was seen at least
 * `minCount` times and holds at least `minConfidence` of the key's
 * transitions: on a random access pattern successors are spread thin and
 * nothing is predicted.
 */
import type { LRUCache } from 'lru-cache';
import { lruCache } from './lru';

const MAX_SUCCESSORS = 4;
const AGE_AT = 256;

interface Successors {
  keys: string[];
  counts: number[];
  total: number;
}

export interface ModelOptions {
  window: number;
  maxKeys: number;
  minCount: number;
  minConfidence: number;
}

export class AccessModel {
  private readonly next: LRUCache<string, Successors>;
  private prevKey: string | undefined;
  private prevAt = 0;

  constructor(private readonly o: ModelOptions) {
    this.next = new (lruCache())<string, Successors>({ max: o.maxKeys });
  }

  get size(): number {
    return this.next.size;
  }

  /** Records a read of `key` at `now` and returns the key predicted to follow it, if any. */
  observe(key: string, now: number): string | undefined {
    const prev = this.prevKey;
    if (prev !== undefined && prev !== key && now - this.prevAt <= this.o.window) this.record(prev, key);
    this.prevKey = key;
    this.prevAt = now;
    return this.predict(key);
  }

  /** The likely successor of `key`, or undefined when none is frequent and dominant enough. */
  predict(key: string): string | undefined {
    const s = this.next.get(key);
    if (s === undefined) return undefined;
    let best = 0;
    for (let i = 1; i < s.counts.length; i++) if (s.counts[i] > s.counts[best]) best = i;
    const count = s.counts[best];
    return count >= this.o.minCount && count >= this.o.minConfidence * s.total ? s.keys[best] : undefined;
  }

  private record(from: string, to: string): void {
    let s = this.next.get(from);
    if (s === undefined) {
      s = { keys: [], counts: [], total: 0 };
      this.next.set(from, s);
    }
    s.total++;
    const i = s.keys.indexOf(to);
    if (i >= 0) s.counts[i]++;
    else if (s.keys.length < MAX_SUCCESSORS) {
      s.keys.push(to);
      s.counts.push(1);
    } else {
      let rarest = 0;
      for (let j = 1; j < s.counts.length; j++) if (s.counts[j] < s.counts[rarest]) rarest = j;
      s.keys[rarest] = to;
      s.counts[rarest] = 1;
    }
    if (s.total > AGE_AT) {
      s.total = Math.ceil(s.total / 2);
      for (let j = 0; j < s.counts.length; j++) s.counts[j] = Math.ceil(s.counts[j] / 2);
    }
  }

  clear(): void {
    this.next.clear();
    this.prevKey = undefined;
  }
}
