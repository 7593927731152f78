/**
 * The recording queue: preallocated columns that `push()` fills on the
 * request path (five numbers and a reference, nothing allocated) and
 * `drain()` empties into the aggregates off it: a short unref()'d timer, the
 * next read, or a full queue drains.
 */
import type { Clock } from '../internal';
import type { Diagnostics } from '../log';
import type { Endpoint } from './endpoint';

const QUEUE_SIZE = 4096;
const DRAIN_MS = 20;

/** Receives each queued sample at drain time. */
export interface Aggregator {
  aggregate(ep: Endpoint, duration: number, status: number, flags: number, time: number): void;
}

export class RecordQueue {
  private readonly endpoints: Array<Endpoint | undefined> = new Array(QUEUE_SIZE).fill(undefined);
  private readonly durations = new Float64Array(QUEUE_SIZE);
  private readonly times = new Float64Array(QUEUE_SIZE);
  private readonly statuses = new Uint16Array(QUEUE_SIZE);
  private readonly flags = new Uint8Array(QUEUE_SIZE);
  private length = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly clock: Clock,
    private readonly sink: Aggregator,
    private readonly diag: Diagnostics,
  ) {
    this.timer = setTimeout(() => this.drain(), DRAIN_MS);
    this.timer.unref();
  }

  /** Samples queued and not aggregated yet. */
  get queued(): number {
    return this.length;
  }

  /** On the request path. */
  push(ep: Endpoint, duration: number, status: number, flags: number): void {
    const i = this.length++;
    this.endpoints[i] = ep;
    this.durations[i] = duration;
    this.times[i] = this.clock();
    this.statuses[i] = status;
    this.flags[i] = flags;
    if (i === 0) this.timer.refresh();
    else if (this.length === QUEUE_SIZE) this.drain();
  }

  /** Aggregates every queued sample of an endpoint that still exists; never throws. */
  drain(): void {
    const n = this.length;
    this.length = 0;
    try {
      for (let i = 0; i < n; i++) {
        const ep = this.endpoints[i]!;
        this.endpoints[i] = undefined;
        if (!ep.removed) this.sink.aggregate(ep, this.durations[i]!, this.statuses[i]!, this.flags[i]!, this.times[i]!);
      }
    } catch (err) {
      this.endpoints.fill(undefined);
      this.diag.failure('metrics.drain', err);
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.endpoints.fill(undefined);
    this.length = 0;
  }
}
