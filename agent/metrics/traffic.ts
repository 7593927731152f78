/**
 * Process-wide HTTP requests, errors and slow requests over the 1m window
 * (custom timings do not count): counters per 10 s slot, the figures of
 * `system()` and of the slow-requests alert rule.
 */
import { FINE_MS, FINE_SLOTS } from './endpoint';
import { round } from '../text';
import { mod } from './summary';

export class RequestTraffic {
  private readonly epochs = new Float64Array(FINE_SLOTS).fill(-1);
  private readonly requests = new Float64Array(FINE_SLOTS);
  private readonly errors = new Float64Array(FINE_SLOTS);
  private readonly slowEpochs = new Float64Array(FINE_SLOTS).fill(-1);
  private readonly slow = new Float64Array(FINE_SLOTS);

  /** One request in the 10 s slot `fineEpoch`. */
  add(fineEpoch: number, error: boolean): void {
    const i = mod(fineEpoch, FINE_SLOTS);
    if (this.epochs[i] !== fineEpoch) {
      this.epochs[i] = fineEpoch;
      this.requests[i] = this.errors[i] = 0;
    }
    this.requests[i]!++;
    if (error) this.errors[i]!++;
  }

  /** Requests per second and error share over the 1m window at `now`; the span starts no earlier than `since`. */
  rates(now: number, since: number): { requestsPerSecond: number; errorRate: number } {
    const fe = Math.floor(now / FINE_MS);
    let count = 0;
    let errors = 0;
    for (let i = 0; i < FINE_SLOTS; i++) {
      const e = this.epochs[i]!;
      if (e > fe - FINE_SLOTS && e <= fe) {
        count += this.requests[i]!;
        errors += this.errors[i]!;
      }
    }
    const span = Math.max(1, (now - Math.max(since, (fe - FINE_SLOTS + 1) * FINE_MS)) / 1000);
    return { requestsPerSecond: round(count / span), errorRate: count ? round(errors / count) : 0 };
  }

  /** One slow request (at or over `slowMs.info`) in the 10 s slot `fineEpoch`. */
  addSlow(fineEpoch: number): void {
    const i = mod(fineEpoch, FINE_SLOTS);
    if (this.slowEpochs[i] !== fineEpoch) {
      this.slowEpochs[i] = fineEpoch;
      this.slow[i] = 0;
    }
    this.slow[i]!++;
  }

  /** Slow requests in the 1m window at `now`. */
  slowInWindow(now: number): number {
    const fe = Math.floor(now / FINE_MS);
    let count = 0;
    for (let i = 0; i < FINE_SLOTS; i++) {
      const e = this.slowEpochs[i]!;
      if (e > fe - FINE_SLOTS && e <= fe) count += this.slow[i]!;
    }
    return count;
  }

  clear(): void {
    this.epochs.fill(-1);
    this.slowEpochs.fill(-1);
  }
}
