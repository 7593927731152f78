/**
 * The slow-request log: a ring of the latest requests at or over
 * `slowMs.info`, read newest first. `written` counts every entry ever added,
 * so a reader keeps the count it saw and asks for what came after it, without
 * consuming anything.
 */
import type { Severity, SlowRequest, Thresholds } from '../../protocol';
import type { RequestSample } from '../internal';
import { round } from '../text';
import { mod } from './summary';
import { redactUrl, truncate } from './text';

const MAX_REQUEST_ID = 128;

export class SlowLog {
  /** Entries ever added (a reader's position). */
  written = 0;
  private readonly ring: Array<SlowRequest | undefined>;
  /** Next write position. */
  private head = 0;

  constructor(
    private readonly size: number,
    /** Read on the request path: the request is slow from `thresholds.info` on. */
    public thresholds: Thresholds['slowMs'],
  ) {
    this.ring = new Array(size).fill(undefined);
  }

  /** Called for a slow request only (the caller compared with `thresholds.info`). */
  add(sample: RequestSample, method: string, route: string, duration: number, status: number, now: number): void {
    const t = this.thresholds;
    const severity: Severity = duration >= t.critical ? 'critical' : duration >= t.warning ? 'warning' : 'info';
    const rid = sample.requestId;
    this.push({
      requestId: typeof rid === 'string' ? truncate(rid, MAX_REQUEST_ID) : '',
      method,
      route,
      path: redactUrl(sample.url),
      status,
      duration: round(duration),
      time: typeof sample.start === 'number' && Number.isFinite(sample.start) ? sample.start : now - duration,
      severity,
    });
  }

  /** Adds a ready-made entry (a slow query). */
  push(entry: SlowRequest): void {
    this.ring[this.head] = entry;
    this.head = (this.head + 1) % this.size;
    this.written++;
  }

  /** Every kept entry, newest first. */
  all(): SlowRequest[] {
    return this.newest(this.size);
  }

  /** Entries added after a reader saw `written === position`, newest first (at most the ring's size). */
  since(position: number): SlowRequest[] {
    return this.newest(Math.min(this.size, this.written - position));
  }

  /** Forgets every entry (a reset); positions stay valid. */
  clear(): void {
    this.ring.fill(undefined);
  }

  private newest(n: number): SlowRequest[] {
    const out: SlowRequest[] = [];
    for (let k = 1; k <= n; k++) {
      const r = this.ring[mod(this.head - k, this.size)];
      if (!r) break;
      out.push(r);
    }
    return out;
  }
}
