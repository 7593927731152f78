/**
 * The request path's one link to the agent's worker: a ring of fixed-size
 * records in shared memory (endpoint index, duration, status, flags), one
 * writer (the app's main thread) and one reader (the worker). A write is five
 * stores and one atomic store of the head; nothing is allocated and nothing is
 * posted. The reader drains every record up to the head and then publishes its
 * tail, so the writer reuses slots only once they are read.
 *
 * When the worker falls behind by a whole ring (it is stopped, or starved of
 * CPU), records wait in a spill queue on the main thread and go into the ring
 * at the next write that finds room: no request goes uncounted while the
 * worker lives. The spill queue is bounded; past it, records are counted as
 * lost (the worker is gone or hopelessly behind), never kept without bound.
 */

/**
 * Records the ring holds: at the worker's 100 ms between drains, room for 80k requests a second
 * (15 bytes a record, 120 kB in all); a worker held up longer spills to the queue below, which
 * loses nothing.
 */
export const RING_SIZE = 8192;
/** Records the main thread keeps while the ring is full, before it counts them lost. */
const SPILL_MAX = 65_536;

/** Indices into the header. */
const HEAD = 0;
const TAIL = 1;
const LOST = 2;
const HEADER = 4;

/** The shared memory of one ring: what the worker is given to attach. */
export interface RingMemory {
  readonly header: SharedArrayBuffer;
  readonly indices: SharedArrayBuffer;
  readonly durations: SharedArrayBuffer;
  readonly statuses: SharedArrayBuffer;
  readonly flags: SharedArrayBuffer;
}

export function allocateRing(size = RING_SIZE): RingMemory {
  return {
    header: new SharedArrayBuffer(HEADER * Int32Array.BYTES_PER_ELEMENT),
    indices: new SharedArrayBuffer(size * Uint32Array.BYTES_PER_ELEMENT),
    durations: new SharedArrayBuffer(size * Float64Array.BYTES_PER_ELEMENT),
    statuses: new SharedArrayBuffer(size * Uint16Array.BYTES_PER_ELEMENT),
    flags: new SharedArrayBuffer(size * Uint8Array.BYTES_PER_ELEMENT),
  };
}

class RingView {
  protected readonly header: Int32Array;
  protected readonly indices: Uint32Array;
  protected readonly durations: Float64Array;
  protected readonly statuses: Uint16Array;
  protected readonly flags: Uint8Array;
  protected readonly size: number;

  constructor(memory: RingMemory) {
    this.header = new Int32Array(memory.header);
    this.indices = new Uint32Array(memory.indices);
    this.durations = new Float64Array(memory.durations);
    this.statuses = new Uint16Array(memory.statuses);
    this.flags = new Uint8Array(memory.flags);
    this.size = this.indices.length;
  }

  /** Records counted as lost: written while the ring and the spill queue were both full. */
  get lost(): number {
    return Atomics.load(this.header, LOST);
  }
}

/** The main thread's end. */
export class RingWriter extends RingView {
  /** Records waiting for room: index, duration, status, flags each. */
  private spill: number[] = [];

  /** On the request path: O(1), no allocation while the worker keeps up. */
  push(index: number, duration: number, status: number, flags: number): void {
    if (this.spill.length > 0 && !this.flush()) {
      this.keep(index, duration, status, flags);
      return;
    }
    if (!this.write(index, duration, status, flags)) this.keep(index, duration, status, flags);
  }

  /** Records waiting on this side for room in the ring. */
  get spilled(): number {
    return this.spill.length / 4;
  }

  private write(index: number, duration: number, status: number, flags: number): boolean {
    const head = Atomics.load(this.header, HEAD);
    const next = (head + 1) % this.size;
    if (next === Atomics.load(this.header, TAIL)) return false;
    this.indices[head] = index;
    this.durations[head] = duration;
    this.statuses[head] = status;
    this.flags[head] = flags;
    // The release: the reader sees the record's fields once it sees the head move.
    Atomics.store(this.header, HEAD, next);
    return true;
  }

  /** Moves spilled records into the ring while it has room (also off the request path, by a timer); true when none are left. */
  flush(): boolean {
    if (this.spill.length === 0) return true;
    const s = this.spill;
    let i = 0;
    while (i < s.length && this.write(s[i]!, s[i + 1]!, s[i + 2]!, s[i + 3]!)) i += 4;
    this.spill = i === s.length ? [] : s.slice(i);
    return this.spill.length === 0;
  }

  private keep(index: number, duration: number, status: number, flags: number): void {
    if (this.spill.length >= SPILL_MAX * 4) Atomics.add(this.header, LOST, 1);
    else this.spill.push(index, duration, status, flags);
  }
}

/** The worker's end. */
export class RingReader extends RingView {
  /** Hands every record written so far to `into`, oldest first, and frees their slots; returns how many. */
  drain(into: (index: number, duration: number, status: number, flags: number) => void): number {
    const head = Atomics.load(this.header, HEAD);
    let tail = Atomics.load(this.header, TAIL);
    let n = 0;
    while (tail !== head) {
      into(this.indices[tail]!, this.durations[tail]!, this.statuses[tail]!, this.flags[tail]!);
      tail = (tail + 1) % this.size;
      n++;
    }
    Atomics.store(this.header, TAIL, tail);
    return n;
  }
}
