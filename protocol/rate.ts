/**
 * A "now" request rate, computed by a client from successive totals. The agent
 * sends rates over the last minute (`SystemStats.requestsPerSecond`,
 * `EndpointStats.rate`), which lag a change in traffic by up to a minute: 40 s
 * into a run that ramped up, they still average in the ramp. A client that
 * keeps the request totals it saw with the agent's time of each can tell the
 * rate over the last few seconds. Pure, no DOM, so the extension and the
 * dashboard use the same one.
 */
import { NOW_WINDOW_MS } from './format';
import type { EndpointStats } from './types';

/** Requests since start (or the last reset) over all HTTP endpoints; custom timings are not requests. */
export function requestTotal(endpoints: Iterable<EndpointStats>): number {
  let total = 0;
  for (const e of endpoints) if (e.kind !== 'custom') total += e.count;
  return total;
}

interface Sample {
  t: number;
  total: number;
}

/** Requests per second over the last `windowMs`, from totals added as they arrive. */
export class NowRate {
  /** Oldest first; the oldest is the newest sample at least `windowMs` older than the last. */
  private samples: Sample[] = [];

  constructor(private readonly windowMs = NOW_WINDOW_MS) {}

  /**
   * A total at agent time `t` (epoch ms). A total lower than the last one (a
   * reset, an endpoint removed) or a time going back starts over: the figure
   * is unknown again until a second has passed.
   */
  add(t: number, total: number): void {
    const last = this.samples[this.samples.length - 1];
    if (last && (total < last.total || t < last.t)) this.samples = [];
    else if (last && t === last.t) {
      last.total = total;
      return;
    }
    this.samples.push({ t, total });
    const cutoff = t - this.windowMs;
    let drop = 0;
    while (drop + 1 < this.samples.length && this.samples[drop + 1]!.t <= cutoff) drop++;
    if (drop) this.samples.splice(0, drop);
  }

  /** Requests per second, or undefined until the samples span a second. */
  perSecond(): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.t - first.t < 1000) return undefined;
    return ((last.total - first.total) * 1000) / (last.t - first.t);
  }

  clear(): void {
    this.samples = [];
  }
}
