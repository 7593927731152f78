/**
 * The measurement core: per-endpoint latency, status codes, errors and rates
 * over the lifetime and two sliding windows, slow requests, custom timings,
 * and process-wide figures. Pure Node; no Express, no network.
 *
 * The parts, each in its own module:
 *   registry.ts  endpoints by method and route, the cap, registrations
 *   queue.ts     the recording queue (the request path ends there)
 *   endpoint.ts  one endpoint's lifetime and window rings
 *   summary.ts   running figures and DDSketch percentiles
 *   changes.ts   which endpoints changed, as revisions for any number of readers
 *   slow.ts      the slow-request log
 *   traffic.ts   process-wide request and error rates
 *   system.ts    memory, CPU, event loop, GC
 *
 * Hot path: `record()` resolves the endpoint with two Map lookups, writes five
 * numbers into the preallocated queue and returns (a replayable route's answer
 * also decrements a countdown; its URL is read only when that reaches 0). A short unref()'d timer (or
 * the next read, or a full queue) drains the queue into the sketches, so
 * aggregation stays off the request path and reads are exact. See docs/metrics.md.
 */
import { SLOW_REQUESTS_KEPT } from '../../protocol/feed';
import type { EndpointStats, SlowRequest, SystemStats, Thresholds } from '../../protocol';
import { type AlertEndpoint, type Clock, type Metrics, type MetricsChanges, type MetricsCursor, type RequestSample, type RouteDefinition, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import { EndpointChanges } from './changes';
import { COARSE_SLOTS, Endpoint, coarseEpoch, fineEpoch } from './endpoint';
import { RecordQueue } from './queue';
import { EndpointRegistry } from './registry';
import { SlowLog } from './slow';
import { F_ERROR, MAX_PATH_EVERY, clampDuration, flagsOf, statusOf } from './sample';
import { SystemSampler } from './system';
import { RequestTraffic } from './traffic';

export { HISTOGRAM_BOUNDS } from './summary';
export { MAX_CUSTOM_NAME, OVERFLOW_ID } from './registry';

export interface MetricsOptions {
  clock?: Clock;
  /** Distinct endpoints kept (registered routes, unmatched buckets and custom timings count); default 2000. */
  maxEndpoints?: number;
  /** Slow-request severities (ms); default {info: 1000, warning: 5000, critical: 10000}. */
  slowMs?: Thresholds['slowMs'];
  /** Slow requests kept, newest first; default SLOW_REQUESTS_KEPT (what a client holds). */
  slowRingSize?: number;
  diag: Diagnostics;
  /** How often process figures are sampled (ms); default 1000, 0 = only at construction and on `sampleSystem()`. */
  systemIntervalMs?: number;
  /** Receives every aggregated sample but the overflow bucket's (the history on disk). */
  history?: HistorySink;
  /**
   * Process figures from elsewhere instead of a sampler of this thread's own (the agent's worker
   * reads the app's main thread): then `systemIntervalMs` is unused.
   */
  system?: SystemSource;
  /** Called before every read aggregates what is queued: samples recorded in another thread arrive here. */
  pull?: () => void;
  /** Told the id of each endpoint a reset removes (the other thread's registry drops it too). */
  onRemoved?: (id: string) => void;
}

/** Where process figures come from: the last sample, and how many were taken (a reader's position). */
export interface SystemSource {
  readonly samples: number;
  stats(time: number, requestsPerSecond: number, errorRate: number): SystemStats;
  sample(): void;
  close(): void;
}

/**
 * Where aggregated samples also go: `add(endpointId, durationMs, isError, time)`, off the request
 * path; and `addPath`, a sampled 2xx/3xx answer's URL of a GET/HEAD route with parameters, on the
 * request path at a low rate (true: the path was new, sample the route's next answer too).
 */
export interface HistorySink {
  add(endpointId: string, durationMs: number, isError: boolean, now: number): void;
  addPath(endpointId: string, url: string, now: number): boolean;
}

const DEFAULT_SLOW_MS: Thresholds['slowMs'] = { info: 1000, warning: 5000, critical: 10000 };

export function createMetrics(opts: MetricsOptions): MetricsCore {
  return new MetricsCore(opts);
}

/** The metrics object, with what the agent and tests may use beyond the `Metrics` contract. */
export class MetricsCore implements Metrics {
  private readonly clock: Clock;
  private readonly diag: Diagnostics;
  private readonly changes: EndpointChanges;
  private readonly registry: EndpointRegistry;
  private readonly queue: RecordQueue;
  private readonly slow: SlowLog;
  private readonly traffic = new RequestTraffic();
  private readonly sampler: SystemSource;
  private readonly pull: (() => void) | undefined;
  /** Endpoints by the index another thread's recorder gave them (bind/ingest). */
  private readonly bound: Array<Endpoint | undefined> = [];
  private readonly history: HistorySink | undefined;
  /** Endpoints with data still inside a window: marked changed when a slot boundary passes. */
  private readonly live = new Set<Endpoint>();
  /** The 10 s slot of the latest read that looked for sliding windows. */
  private slidAt: number;
  /** `slowMs.info`, read by every record(). */
  private slowFromMs: number;
  /** Samples folded into the overflow endpoint since the start or the last reset. */
  private dropped = 0;
  private closed = false;

  constructor(opts: MetricsOptions) {
    this.clock = opts.clock ?? systemClock;
    this.diag = opts.diag;
    const maxEndpoints = Math.max(1, Math.floor(opts.maxEndpoints ?? 2000));
    const now = this.clock();
    this.slidAt = fineEpoch(now);
    this.changes = new EndpointChanges(2 * maxEndpoints + 1);
    const changes = this.changes;
    const onRemoved = opts.onRemoved;
    const hooks = {
      create: (id: string, method: string, route: string, kind: EndpointStats['kind'], since: number) => new Endpoint(id, method, route, kind, since),
      touch: (ep: Endpoint) => changes.touch(ep),
      remove: (id: string) => {
        changes.remove(id);
        onRemoved?.(id);
      },
    };
    this.registry = new EndpointRegistry(maxEndpoints, hooks, this.diag, now);
    this.slow = new SlowLog(Math.max(1, Math.floor(opts.slowRingSize ?? SLOW_REQUESTS_KEPT)), { ...DEFAULT_SLOW_MS, ...opts.slowMs });
    this.slowFromMs = this.slow.thresholds.info;
    this.queue = new RecordQueue(this.clock, this, this.diag);
    this.sampler = opts.system ?? new SystemSampler(this.diag, opts.systemIntervalMs ?? 1000);
    this.pull = opts.pull;
    this.history = opts.history;
  }

  // ------------------------------------------------------------ recording (the request path)

  registerRoute(def: RouteDefinition): void {
    if (this.closed) return;
    try {
      this.registry.register(def);
    } catch (err) {
      this.diag.failure('metrics.registerRoute', err);
    }
  }

  record(sample: RequestSample): void {
    if (this.closed) return;
    try {
      const ep = this.registry.forRequest(sample.method, sample.route);
      const duration = clampDuration(sample.duration);
      const status = statusOf(sample);
      this.queue.push(ep, duration, status, flagsOf(sample, status));
      if (ep.replayable && status >= 200 && status < 400 && this.history !== undefined && --ep.pathCountdown <= 0) this.takePath(ep, sample);
      if (duration >= this.slowFromMs) {
        const now = this.clock();
        this.slow.add(sample, ep.method, ep.route, duration, status, now);
        this.traffic.addSlow(fineEpoch(now));
      }
    } catch (err) {
      this.diag.failure('metrics.record', err);
    }
  }

  /** A sampled answer's path for the history; how many answers pass before the next. */
  private takePath(ep: Endpoint, sample: RequestSample): void {
    if (!this.history!.addPath(ep.id, sample.url, sample.start)) ep.pathEvery = Math.min(ep.pathEvery * 2, MAX_PATH_EVERY);
    ep.pathCountdown = ep.pathEvery;
  }

  recordCustom(name: string, duration: number, error: boolean): void {
    if (this.closed) return;
    try {
      const ep = this.registry.forCustom(typeof name === 'string' ? name : String(name));
      this.queue.push(ep, clampDuration(duration), 0, error === true ? F_ERROR : 0);
    } catch (err) {
      this.diag.failure('metrics.record', err);
    }
  }

  /** Samples recorded but not aggregated yet (the drain timer, the next read or a full queue aggregates them). */
  queued(): number {
    return this.queue.queued;
  }

  // ------------------------------------------------------------ recording from another thread

  /**
   * Gives the endpoint of a request (as `record()` would resolve it) an index that samples recorded
   * elsewhere name it by. The other thread's registry took the same steps in the same order, so
   * both resolve to the same endpoint, the overflow bucket included.
   */
  bind(index: number, method: string, route: string | undefined): void {
    this.bound[index] = this.registry.forRequest(method, route);
  }

  /** As bind(), for a custom timing's name. */
  bindCustom(index: number, name: string): void {
    this.bound[index] = this.registry.forCustom(name);
  }

  /** One sample recorded elsewhere (already classified and clamped). */
  ingest(index: number, duration: number, status: number, flags: number, time: number): void {
    const ep = this.boundAt(index);
    if (ep !== undefined) this.aggregate(ep, duration, status, flags, time);
  }

  /** A slow request recorded elsewhere: into the slow log and the process-wide slow count. */
  ingestSlow(sample: RequestSample, index: number, duration: number, status: number): void {
    const ep = this.boundAt(index);
    if (ep === undefined) return;
    const now = this.clock();
    this.slow.add(sample, ep.method, ep.route, duration, status, now);
    this.traffic.addSlow(fineEpoch(now));
  }

  /**
   * The endpoint an index names. One a reset removed (the other thread still names it until it
   * hears of the removal) is made again, as the same method and route resolve now.
   */
  private boundAt(index: number): Endpoint | undefined {
    const ep = this.bound[index];
    if (ep === undefined || !ep.removed) return ep;
    const again = ep.kind === 'custom' ? this.registry.forCustom(ep.route) : ep.kind === 'overflow' ? this.registry.overflow() : this.registry.forRequest(ep.method, ep.kind === 'unmatched' ? undefined : ep.route);
    this.bound[index] = again;
    return again;
  }

  /** What is queued here and elsewhere, aggregated. */
  private drain(): void {
    this.pull?.();
    this.queue.drain();
  }

  // ------------------------------------------------------------ reads

  endpoints(): EndpointStats[] {
    this.drain();
    const now = this.clock();
    const out: EndpointStats[] = [];
    for (const ep of this.registry.values()) out.push(ep.stats(now));
    return out;
  }

  /** Every endpoint's lifetime count and latency sketch (GET /v1/sketches). */
  sketches(): Array<{ id: string; count: number; sketch: string }> {
    this.drain();
    const out: Array<{ id: string; count: number; sketch: string }> = [];
    for (const ep of this.registry.values()) out.push({ id: ep.id, ...ep.sketch() });
    return out;
  }

  alertEndpoints(): AlertEndpoint[] {
    this.drain();
    const now = this.clock();
    const out: AlertEndpoint[] = [];
    for (const ep of this.registry.values()) {
      out.push({ id: ep.id, kind: ep.kind, location: ep.location, handlerLocation: ep.handlerLocation, windows: { '1m': ep.minute(now) } });
    }
    return out;
  }

  endpoint(id: string): EndpointStats | undefined {
    this.drain();
    return this.registry.get(id)?.stats(this.clock());
  }

  system(): SystemStats {
    this.drain();
    const now = this.clock();
    const { requestsPerSecond, errorRate } = this.traffic.rates(now, this.registry.startedAt);
    return this.sampler.stats(now, requestsPerSecond, errorRate);
  }

  /** Takes a process sample now (the timer does it every `systemIntervalMs`). */
  sampleSystem(): void {
    this.sampler.sample();
  }

  slowRequests(): SlowRequest[] {
    return this.slow.all();
  }

  /** Adds an entry made elsewhere (a slow query from the findings) to the slow log; not counted as a slow request. */
  recordSlowEntry(entry: SlowRequest): void {
    this.slow.push(entry);
  }

  slowLastMinute(): number {
    return this.traffic.slowInWindow(this.clock());
  }

  slowSince(since: number): { slowRequests: SlowRequest[]; position: number; missed: number } {
    const position = this.slow.written;
    const slowRequests = this.slow.since(since);
    return { slowRequests, position, missed: Math.max(0, position - since - slowRequests.length) };
  }

  droppedEndpoints(): number {
    this.drain();
    return this.dropped;
  }

  // ------------------------------------------------------------ the change feed

  cursor(): MetricsCursor {
    this.drain();
    this.slide(this.clock());
    return { revision: this.changes.seal(), slow: this.slow.written, system: this.sampler.samples };
  }

  changesSince(since: MetricsCursor): MetricsChanges {
    this.drain();
    const now = this.clock();
    this.slide(now);
    const cursor: MetricsCursor = { revision: this.changes.seal(), slow: this.slow.written, system: this.sampler.samples };
    const endpoints = this.changes.changedSince(since.revision).map((ep) => ep.stats(now));
    const removedEndpoints = this.changes.removedSince(since.revision).filter((id) => !this.registry.has(id));
    const out: MetricsChanges = { endpoints, removedEndpoints, slowRequests: this.slow.since(since.slow), cursor };
    if (cursor.system !== since.system) out.system = this.system();
    return out;
  }

  // ------------------------------------------------------------ control

  reset(endpointId?: string): number {
    try {
      this.drain();
      const now = this.clock();
      if (endpointId === undefined) {
        const n = this.registry.size;
        for (const ep of [...this.registry.values()]) this.resetEndpoint(ep, now);
        this.dropped = 0;
        this.registry.startedAt = now;
        this.traffic.clear();
        this.slow.clear();
        return n;
      }
      const ep = this.registry.get(endpointId);
      if (!ep) return 0;
      if (this.registry.isOverflow(ep)) this.dropped = 0;
      this.resetEndpoint(ep, now);
      return 1;
    } catch (err) {
      this.diag.failure('metrics.reset', err);
      return 0;
    }
  }

  setSlowThresholds(next: Thresholds['slowMs']): void {
    this.slow.thresholds = { ...this.slow.thresholds, ...next };
    this.slowFromMs = this.slow.thresholds.info;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.close();
    this.sampler.close();
  }

  // ------------------------------------------------------------ internals

  /** One queued sample into its endpoint and the process-wide figures (off the request path). */
  aggregate(ep: Endpoint, d: number, status: number, flags: number, t: number): void {
    ep.add(d, status, flags, t);
    if (ep.kind === 'overflow') this.dropped++;
    if (ep.kind !== 'custom') this.traffic.add(fineEpoch(t), (flags & F_ERROR) !== 0);
    this.live.add(ep);
    this.changes.touch(ep);
    // The one place samples reach the history on disk (the overflow bucket's mix of routes has no trend).
    if (this.history && ep.kind !== 'overflow') this.history.add(ep.id, d, (flags & F_ERROR) !== 0, t);
  }

  /** A registered endpoint is zeroed; any other is removed. */
  private resetEndpoint(ep: Endpoint, now: number): void {
    this.live.delete(ep);
    if (!ep.registered) {
      this.registry.remove(ep);
      return;
    }
    ep.clear(now);
    this.changes.touch(ep);
  }

  /** Marks endpoints whose window figures moved because a 10 s slot boundary passed. */
  private slide(now: number): void {
    const fe = fineEpoch(now);
    if (fe === this.slidAt) return;
    this.slidAt = fe;
    const ce = coarseEpoch(now);
    for (const ep of this.live) {
      this.changes.touch(ep);
      if (ep.lastCoarse <= ce - COARSE_SLOTS) {
        // Its data left every window: free the slots (the figures already read as empty).
        this.live.delete(ep);
        ep.forgetWindows();
      }
    }
  }
}
