/**
 * Counters behind CacheStats and the bounded event batch. Everything here is
 * bounded: namespaces and routes are capped (overflow folded into one bucket),
 * events are capped per batch with a dropped counter, the window is a ring of
 * six 10-second buckets rotated lazily from the clock the caller already read.
 */
import type { CacheEvent, HitCounts } from '../../protocol';

export interface Counts {
  hits: number;
  misses: number;
}

export interface NamespaceCounts extends Counts {
  namespace: string;
  /** Live L1 entries in this namespace. */
  entries: number;
}

export const OVERFLOW_BUCKET = '(other)';

export function hitCounts(c: Counts): HitCounts {
  const total = c.hits + c.misses;
  return { hits: c.hits, misses: c.misses, hitRate: total === 0 ? 0 : c.hits / total };
}

/** A capped name → counts map: past `cap` names, new names share one overflow bucket. */
export class CappedCounts<T extends Counts> {
  private readonly map = new Map<string, T>();
  private overflow: T | undefined;

  constructor(
    private readonly cap: number,
    private readonly make: (name: string) => T,
  ) {}

  get(name: string): T {
    let c = this.map.get(name);
    if (c !== undefined) return c;
    if (this.map.size >= this.cap) return (this.overflow ??= this.make(OVERFLOW_BUCKET));
    c = this.make(name);
    this.map.set(name, c);
    return c;
  }

  values(): T[] {
    const out = [...this.map.values()];
    if (this.overflow) out.push(this.overflow);
    return out;
  }
}

const BUCKET_MS = 10_000;
const BUCKETS = 6;

/** Hits and misses over the last minute (six 10-second buckets). */
export class HitWindow {
  private readonly hits = new Float64Array(BUCKETS);
  private readonly misses = new Float64Array(BUCKETS);
  private index = 0;
  private bucketEnd = 0;

  private rotate(now: number): void {
    if (this.bucketEnd === 0) {
      this.bucketEnd = now + BUCKET_MS;
      return;
    }
    let steps = 0;
    while (now >= this.bucketEnd && steps < BUCKETS) {
      this.index = (this.index + 1) % BUCKETS;
      this.hits[this.index] = 0;
      this.misses[this.index] = 0;
      this.bucketEnd += BUCKET_MS;
      steps++;
    }
    if (now >= this.bucketEnd) this.bucketEnd = now + BUCKET_MS;
  }

  hit(now: number): void {
    if (now >= this.bucketEnd) this.rotate(now);
    this.hits[this.index]++;
  }

  miss(now: number): void {
    if (now >= this.bucketEnd) this.rotate(now);
    this.misses[this.index]++;
  }

  counts(now: number): HitCounts {
    if (now >= this.bucketEnd) this.rotate(now);
    let hits = 0;
    let misses = 0;
    for (let i = 0; i < BUCKETS; i++) {
      hits += this.hits[i];
      misses += this.misses[i];
    }
    return hitCounts({ hits, misses });
  }
}

/** A reader's position in an EventBatch: events it has seen and drops it has counted. */
export interface EventCursor {
  readonly seq: number;
  readonly dropped: number;
}

export interface EventRead {
  /** Oldest first. */
  events: CacheEvent[];
  /** Events this reader will never see: not built because the batch was full, or discarded before it read them. */
  dropped: number;
  /** Where this reader's next read starts. */
  cursor: EventCursor;
}

/**
 * A bounded log of events that any number of readers read with their own
 * cursor (`read`), or one caller empties (`take`). Past `max` events, room is
 * made by discarding the events some reader has already read; when no reader
 * read any, new events are counted, not built.
 */
export class EventBatch {
  /** Kept events, oldest first; `events[0]` is number `first`. */
  events: CacheEvent[] = [];
  /** Events never built (cumulative). */
  dropped = 0;
  private first = 0;
  /** Events up to this number were read by some reader. */
  private readUpTo = 0;
  private takenDropped = 0;

  constructor(readonly max: number) {}

  /** True when there is room; callers build the event object only then. */
  room(): boolean {
    if (this.events.length < this.max) return true;
    const seen = this.readUpTo - this.first;
    if (seen > 0) {
      this.events.splice(0, seen);
      this.first = this.readUpTo;
      return true;
    }
    this.dropped++;
    return false;
  }

  /** Events after `cursor`, without consuming them; no cursor: none, and the current position. */
  read(cursor?: EventCursor): EventRead {
    const end = this.first + this.events.length;
    if (!cursor) return { events: [], dropped: 0, cursor: { seq: end, dropped: this.dropped } };
    const from = Math.max(cursor.seq, this.first);
    if (end > this.readUpTo) this.readUpTo = end;
    return {
      events: this.events.slice(from - this.first),
      dropped: this.dropped - cursor.dropped + (from - cursor.seq),
      cursor: { seq: end, dropped: this.dropped },
    };
  }

  /** Every kept event and the drops since the previous take; empties the log for every reader. */
  take(): { events: CacheEvent[]; dropped: number } {
    const out = { events: this.events, dropped: this.dropped - this.takenDropped };
    this.first += this.events.length;
    this.readUpTo = Math.max(this.readUpTo, this.first);
    this.events = [];
    this.takenDropped = this.dropped;
    return out;
  }
}
