/**
 * The recording queue: preallocated columns that `push()` fills on the
 * request path (five numbers and a reference, nothing allocated) and
 * `drain()` empties into the aggregates off it: a short unref()'d interval,
 * the next read, or a full queue drains. The interval runs while samples
 * arrive and stops after IDLE_TICKS empty ticks (an idle app is not woken);
 * the first push after that starts it again, so a steady stream of requests
 * never touches the timer. Under the system clock a sample is stamped with
 * the time of the latest tick (a clock read per sample would allocate).
 */
import { type Clock, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import type { Endpoint } from './endpoint';

const QUEUE_SIZE = 4096;
const DRAIN_MS = 20;
/** Empty ticks after which the interval stops. */
const IDLE_TICKS = 50;

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
  /** Epoch ms, refreshed by every tick and drain: the time samples are stamped with under the system clock. */
  private readonly stamp = new Float64Array(1);
  private timer: NodeJS.Timeout | undefined;
  private idleTicks = 0;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly sink: Aggregator,
    private readonly diag: Diagnostics,
  ) {}

  /** Samples queued and not aggregated yet. */
  get queued(): number {
    return this.length;
  }

  /** On the request path. */
  push(ep: Endpoint, duration: number, status: number, flags: number): void {
    if (this.timer === undefined) this.start();
    const i = this.length++;
    this.endpoints[i] = ep;
    this.durations[i] = duration;
    // A clock read returns a boxed number (an allocation per sample): with the system clock, the
    // time the interval last stamped (at most DRAIN_MS old while the loop runs freely) is used.
    this.times[i] = this.clock === systemClock ? this.stamp[0]! : this.clock();
    this.statuses[i] = status;
    this.flags[i] = flags;
    if (this.length === QUEUE_SIZE) this.drain();
  }

  private start(): void {
    if (this.closed) return;
    this.idleTicks = 0;
    this.stamp[0] = Date.now();
    this.timer = setInterval(() => this.tick(), DRAIN_MS);
    this.timer.unref();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    this.stamp[0] = Date.now();
    if (this.length > 0) {
      this.idleTicks = 0;
      this.drain();
    } else if (++this.idleTicks >= IDLE_TICKS) this.stop();
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
    this.closed = true;
    this.stop();
    this.endpoints.fill(undefined);
    this.length = 0;
  }
}
