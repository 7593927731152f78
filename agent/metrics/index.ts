/**
 * The measurement core: per-endpoint latency, status codes, errors and rates
 * over the lifetime and two sliding windows, slow requests, custom timings,
 * and process-wide figures. Pure Node; no Express, no network.
 *
 * Hot path: `record()` resolves the endpoint with two Map lookups, writes five
 * numbers into a preallocated queue and returns. A short unref()'d timer (or
 * the next read, or a full queue) drains the queue into the sketches, so
 * aggregation stays off the request path and reads are exact.
 *
 * Percentiles come from DDSketch (1% relative accuracy, mergeable). Windows
 * are rings of sub-window sketches merged on read:
 *   '1m' = the current 10 s slot + the 6 before it (covers 60–70 s),
 *   '5m' = the current 1 min slot + the 5 before it (covers 5–6 min).
 * See docs/metrics.md.
 */
import http from 'node:http';
import { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import type { EndpointKind, EndpointStats, LatencySummary, Severity, SlowRequest, SourceLocation, StatusClass, SystemStats, Thresholds } from '../../protocol';
import { type AlertEndpoint, type Clock, type Metrics, type RequestSample, type RouteDefinition, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import { SystemSampler } from './system';
import { redactUrl, truncate } from './text';

export interface MetricsOptions {
  clock?: Clock;
  /** Distinct endpoints kept (registered routes, unmatched buckets and custom timings count); default 2000. */
  maxEndpoints?: number;
  /** Slow-request severities (ms); default {info: 1000, warning: 5000, critical: 10000}. */
  slowMs?: Thresholds['slowMs'];
  /** Slow requests kept, newest first; default 100. */
  slowRingSize?: number;
  diag: Diagnostics;
  /** How often process figures are sampled (ms); default 1000, 0 = only at construction and on `sampleSystem()`. */
  systemIntervalMs?: number;
}

/** The metrics object, with what the agent may use beyond the `Metrics` contract. */
export interface MetricsCore extends Metrics {
  /** Ids of endpoints removed by a reset (they had no registration) since the previous call. */
  takeRemovedEndpoints(): string[];
  /** Takes a process sample now (the timer does it every `systemIntervalMs`). */
  sampleSystem(): void;
  /** Samples recorded but not aggregated yet (the drain timer, the next read or a full queue aggregates them). */
  queued(): number;
}

export const DEFAULT_SLOW_MS: Thresholds['slowMs'] = { info: 1000, warning: 5000, critical: 10000 };
export const OVERFLOW_ID = '_OTHER (overflow)';
export const UNMATCHED_ROUTE = '(unmatched)';
export const OVERFLOW_ROUTE = '(overflow)';
export const OTHER_METHOD = '_OTHER';
/** Custom timing names are cut to this many characters. */
export const MAX_CUSTOM_NAME = 200;
/** Route templates longer than this are cut (a template is app code, but a buggy app may build them from input). */
export const MAX_ROUTE = 1024;
/** Latency histogram (5 min window): bucket upper bounds in ms; the last is Infinity (`null` in JSON). */
export const HISTOGRAM_BOUNDS: readonly number[] = Object.freeze([0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 60000, Infinity]);

const FINE_MS = 10_000;
const FINE_SLOTS = 7;
const COARSE_MS = 60_000;
const COARSE_SLOTS = 6;
const QUEUE_SIZE = 4096;
const DRAIN_MS = 20;
/** Durations are clamped into [0, one day]. */
const MAX_DURATION = 86_400_000;
const RELATIVE_ACCURACY = 0.01;
/** Keeps each sketch bounded: 1024 bins at 1% cover ~9 orders of magnitude; smaller values collapse first. */
const BIN_LIMIT = 1024;
const MAX_REQUEST_ID = 128;

const KNOWN_METHODS: ReadonlySet<string> = new Set(http.METHODS);
const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx'];

const F_ABORTED = 1;
const F_ERROR = 2;

type Sketch = LogCollapsingLowestDenseDDSketch;
const newSketch = (): Sketch => new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: RELATIVE_ACCURACY, binLimit: BIN_LIMIT });
/** Every sketch shares this mapping (same accuracy), so a sample's bin key is computed once for all its sketches. */
const MAPPING = newSketch().mapping;
/** Key meaning "counts as zero" (below the mapping's smallest value). */
const ZERO_KEY = -Infinity;

function keyOf(d: number): number {
  return d > MAPPING.minPossible ? MAPPING.key(d) : ZERO_KEY;
}

/** `sketch.accept(d)` with the key already known (what accept does, without a logarithm per sketch). */
function acceptKey(s: Sketch, d: number, key: number): void {
  if (key === ZERO_KEY) s.zeroCount++;
  else s.store.add(key);
  s.count++;
  s.sum += d;
  if (d < s.min) s.min = d;
  if (d > s.max) s.max = d;
}

/** Running figures: an endpoint's lifetime, one window slot, or a window being merged. */
class Acc {
  count = 0;
  errors = 0;
  aborted = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  sketch: Sketch | null = null;
  /** The sketch belongs to a slot this accumulator merged (read-only here). */
  private borrowed = false;

  add(d: number, key: number, flags: number): void {
    this.count++;
    if (flags & F_ABORTED) this.aborted++;
    else if (flags & F_ERROR) this.errors++;
    this.sum += d;
    if (d < this.min) this.min = d;
    if (d > this.max) this.max = d;
    acceptKey((this.sketch ??= newSketch()), d, key);
  }

  merge(o: Acc): void {
    if (o.count === 0) return;
    this.count += o.count;
    this.errors += o.errors;
    this.aborted += o.aborted;
    this.sum += o.sum;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    if (!o.sketch) return;
    if (!this.sketch) {
      // Copy on write: a window with one busy slot reads that slot's sketch without copying it.
      this.sketch = o.sketch;
      this.borrowed = true;
      return;
    }
    if (this.borrowed) {
      const own = newSketch();
      own.merge(this.sketch);
      this.sketch = own;
      this.borrowed = false;
    }
    this.sketch.merge(o.sketch);
  }

  clear(): void {
    this.count = this.errors = this.aborted = this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.sketch = null;
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, errors: 0, aborted: 0, min: 0, avg: 0, max: 0, p50: 0, p95: 0, p99: 0 };
    return {
      count: this.count,
      errors: this.errors,
      aborted: this.aborted,
      min: round(this.min),
      avg: round(this.sum / this.count),
      max: round(this.max),
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
    };
  }

  private quantile(q: number): number {
    const v = this.sketch ? this.sketch.getValueAtQuantile(q) : NaN;
    if (!Number.isFinite(v)) return 0;
    // The sketch answers with a bucket's representative value; the true quantile lies within [min, max].
    return round(Math.min(this.max, Math.max(this.min, v)));
  }
}

class Slot extends Acc {
  epoch = -1;
  hist: Uint32Array | null = null;
}

class Endpoint {
  registered = false;
  location: SourceLocation | undefined;
  handlerLocation: SourceLocation | undefined;
  readonly life = new Acc();
  readonly codes = [0, 0, 0, 0, 0];
  lastSeen = 0;
  /** Epoch ms the figures start from (creation or reset); bounds the rate's time span. */
  since: number;
  readonly fine: Array<Slot | undefined> = new Array(FINE_SLOTS).fill(undefined);
  readonly coarse: Array<Slot | undefined> = new Array(COARSE_SLOTS).fill(undefined);
  /** Coarse epoch of the latest sample: the endpoint has window data while this is within the 5m ring. */
  lastCoarse = -Infinity;
  dirty = false;
  removed = false;
  /** Both cleared by every new sample. */
  figures: Figures | undefined;
  minute: { fe: number; w1: LatencySummary } | undefined;

  constructor(
    readonly id: string,
    readonly method: string,
    readonly route: string,
    readonly kind: EndpointKind,
    since: number,
  ) {
    this.since = since;
  }

  clear(since: number): void {
    this.life.clear();
    this.codes.fill(0);
    this.lastSeen = 0;
    this.since = since;
    this.fine.fill(undefined);
    this.coarse.fill(undefined);
    this.lastCoarse = -Infinity;
    this.figures = undefined;
    this.minute = undefined;
  }
}

interface Figures {
  fe: number;
  ce: number;
  all: LatencySummary;
  w1: LatencySummary;
  w5: LatencySummary;
  counts: number[];
}

interface MethodTable {
  routes: Map<string, Endpoint>;
  unmatched: Endpoint | undefined;
}

export function createMetrics(opts: MetricsOptions): MetricsCore {
  const clock = opts.clock ?? systemClock;
  const diag = opts.diag;
  const maxEndpoints = Math.max(1, Math.floor(opts.maxEndpoints ?? 2000));
  const slowRingSize = Math.max(1, Math.floor(opts.slowRingSize ?? 100));
  let slowMs = { ...DEFAULT_SLOW_MS, ...opts.slowMs };
  let startedAt = clock();

  const tables = new Map<string, MethodTable>();
  const byId = new Map<string, Endpoint>();
  let endpointCount = 0;
  let overflow: Endpoint | undefined;
  let dropped = 0;
  let changed: Endpoint[] = [];
  /** Bounded: when nobody takes them, a client resyncs from a snapshot anyway. */
  let removedIds = new Set<string>();
  const maxRemovedIds = 2 * maxEndpoints + 1;
  /** Endpoints with data still inside a window: re-sent when a slot boundary passes. */
  const live = new Set<Endpoint>();
  let lastTakeEpoch = Math.floor(startedAt / FINE_MS);

  // The queue: preallocated columns, filled by record(), emptied by drain().
  const qEp: Array<Endpoint | undefined> = new Array(QUEUE_SIZE).fill(undefined);
  const qDur = new Float64Array(QUEUE_SIZE);
  const qTime = new Float64Array(QUEUE_SIZE);
  const qStatus = new Uint16Array(QUEUE_SIZE);
  const qFlags = new Uint8Array(QUEUE_SIZE);
  let qLen = 0;
  let closed = false;
  const drainTimer = setTimeout(() => safeDrain(), DRAIN_MS);
  drainTimer.unref();

  // Process-wide requests and errors over the 1m window (HTTP requests only, not custom timings).
  const gEpoch = new Float64Array(FINE_SLOTS).fill(-1);
  const gCount = new Float64Array(FINE_SLOTS);
  const gErrors = new Float64Array(FINE_SLOTS);
  // Process-wide slow requests (≥ slowMs.info when recorded) over the 1m window, counted as the slow log records them.
  const slowEpoch = new Float64Array(FINE_SLOTS).fill(-1);
  const slowCount = new Float64Array(FINE_SLOTS);

  const slowRing: Array<SlowRequest | undefined> = new Array(slowRingSize).fill(undefined);
  let slowHead = 0; // next write position
  let slowFresh = 0; // written since the previous takeNewSlowRequests()

  const system = new SystemSampler(diag, opts.systemIntervalMs ?? 1000);

  // ------------------------------------------------------------ endpoints

  function table(method: string): MethodTable {
    let t = tables.get(method);
    if (!t) tables.set(method, (t = { routes: new Map(), unmatched: undefined }));
    return t;
  }

  function getOverflow(): Endpoint {
    if (!overflow) {
      overflow = new Endpoint(OVERFLOW_ID, OTHER_METHOD, OVERFLOW_ROUTE, 'overflow', startedAt);
      byId.set(OVERFLOW_ID, overflow);
    }
    return overflow;
  }

  let capWarned = false;
  function capWarning(): void {
    if (capWarned) return; // folded samples are on the request path: not even a message string
    capWarned = true;
    diag.warnOnce('metrics.endpointCap', `more than ${maxEndpoints} endpoints: new ones are folded into "${OVERFLOW_ID}" (maxEndpoints)`);
  }

  /** A new endpoint, or the overflow bucket when the cap is reached. */
  function create(method: string, route: string, kind: EndpointKind): Endpoint {
    if (endpointCount >= maxEndpoints) {
      capWarning();
      return getOverflow();
    }
    const ep = new Endpoint(`${method} ${route}`, method, route, kind, startedAt);
    const t = table(method);
    if (kind === 'unmatched') t.unmatched = ep;
    else t.routes.set(route, ep);
    byId.set(ep.id, ep);
    endpointCount++;
    markChanged(ep);
    return ep;
  }

  function remove(ep: Endpoint): void {
    ep.removed = true;
    byId.delete(ep.id);
    live.delete(ep);
    if (ep === overflow) {
      overflow = undefined;
    } else {
      const t = tables.get(ep.method);
      if (t) {
        if (t.unmatched === ep) t.unmatched = undefined;
        else if (t.routes.get(ep.route) === ep) t.routes.delete(ep.route);
      }
      endpointCount--;
    }
    if (removedIds.size < maxRemovedIds) removedIds.add(ep.id);
  }

  function markChanged(ep: Endpoint): void {
    if (ep.dirty) return;
    ep.dirty = true;
    changed.push(ep);
    // Removed endpoints linger in the list until the next take; if nobody takes, keep it bounded.
    if (changed.length > 2 * (byId.size + 1)) changed = changed.filter((e) => !e.removed);
  }

  function routeKey(route: string): string {
    return route.length <= MAX_ROUTE ? route : truncate(route, MAX_ROUTE);
  }

  function resolveRequest(rawMethod: unknown, route: unknown): Endpoint {
    const method = typeof rawMethod === 'string' && KNOWN_METHODS.has(rawMethod) ? rawMethod : OTHER_METHOD;
    const t = table(method);
    if (typeof route !== 'string') return t.unmatched ?? create(method, UNMATCHED_ROUTE, 'unmatched');
    const key = routeKey(route);
    const ep = t.routes.get(key) ?? tables.get('ALL')?.routes.get(key);
    if (ep) return ep;
    const created = create(method, key, 'route');
    if (method === 'HEAD' && created !== overflow) {
      // Express answers HEAD with the GET route: point the HEAD endpoint at the same code.
      const get = tables.get('GET')?.routes.get(key);
      if (get?.registered) {
        created.location = get.location;
        created.handlerLocation = get.handlerLocation;
      }
    }
    return created;
  }

  function resolveCustom(name: string): Endpoint {
    const key = name.length <= MAX_CUSTOM_NAME ? name : truncate(name, MAX_CUSTOM_NAME);
    return table('CUSTOM').routes.get(key) ?? create('CUSTOM', key, 'custom');
  }

  // ------------------------------------------------------------ the hot path

  function enqueue(ep: Endpoint, duration: number, status: number, flags: number): void {
    const i = qLen++;
    qEp[i] = ep;
    qDur[i] = duration;
    qTime[i] = clock();
    qStatus[i] = status;
    qFlags[i] = flags;
    if (i === 0) drainTimer.refresh();
    else if (qLen === QUEUE_SIZE) drain();
  }

  function record(sample: RequestSample): void {
    if (closed) return;
    try {
      const ep = resolveRequest(sample.method, sample.route);
      const duration = clampDuration(sample.duration);
      const s = sample.status;
      const status = typeof s === 'number' && s >= 0 && s < 1000 ? s | 0 : 0;
      const aborted = sample.aborted === true;
      const flags = aborted ? F_ABORTED : sample.threw === true || status >= 500 ? F_ERROR : 0;
      enqueue(ep, duration, status, flags);
      if (duration >= slowMs.info) addSlow(sample, ep, duration, status, clock());
    } catch (err) {
      diag.failure('metrics.record', err);
    }
  }

  function recordCustom(name: string, duration: number, error: boolean): void {
    if (closed) return;
    try {
      const ep = resolveCustom(typeof name === 'string' ? name : String(name));
      enqueue(ep, clampDuration(duration), 0, error === true ? F_ERROR : 0);
    } catch (err) {
      diag.failure('metrics.record', err);
    }
  }

  function addSlow(sample: RequestSample, ep: Endpoint, duration: number, status: number, now: number): void {
    const severity: Severity = duration >= slowMs.critical ? 'critical' : duration >= slowMs.warning ? 'warning' : 'info';
    const rid = sample.requestId;
    slowRing[slowHead] = {
      requestId: typeof rid === 'string' ? truncate(rid, MAX_REQUEST_ID) : '',
      method: ep.method,
      route: ep.route,
      path: redactUrl(sample.url),
      status,
      duration: round(duration),
      time: typeof sample.start === 'number' && Number.isFinite(sample.start) ? sample.start : now - duration,
      severity,
    };
    slowHead = (slowHead + 1) % slowRingSize;
    if (slowFresh < slowRingSize) slowFresh++;
    const fe = Math.floor(now / FINE_MS);
    const si = mod(fe, FINE_SLOTS);
    if (slowEpoch[si] !== fe) {
      slowEpoch[si] = fe;
      slowCount[si] = 0;
    }
    slowCount[si]!++;
  }

  // ------------------------------------------------------------ aggregation (off the request path)

  function safeDrain(): void {
    try {
      drain();
    } catch (err) {
      qLen = 0;
      diag.failure('metrics.drain', err);
    }
  }

  function drain(): void {
    const n = qLen;
    qLen = 0;
    for (let i = 0; i < n; i++) {
      const ep = qEp[i]!;
      qEp[i] = undefined;
      if (!ep.removed) apply(ep, qDur[i]!, qStatus[i]!, qFlags[i]!, qTime[i]!);
    }
  }

  function apply(ep: Endpoint, d: number, status: number, flags: number, t: number): void {
    ep.figures = undefined;
    ep.minute = undefined;
    const key = keyOf(d);
    ep.life.add(d, key, flags);
    if (status >= 100 && status < 600) ep.codes[((status / 100) | 0) - 1]!++;
    if (t > ep.lastSeen) ep.lastSeen = t;
    const fe = Math.floor(t / FINE_MS);
    slot(ep.fine, fe, false).add(d, key, flags);
    const ce = Math.floor(t / COARSE_MS);
    const cs = slot(ep.coarse, ce, true);
    cs.add(d, key, flags);
    cs.hist![bucket(d)]!++;
    if (ce > ep.lastCoarse) ep.lastCoarse = ce;
    if (ep === overflow) dropped++;
    if (ep.kind !== 'custom') {
      const gi = mod(fe, FINE_SLOTS);
      if (gEpoch[gi] !== fe) {
        gEpoch[gi] = fe;
        gCount[gi] = gErrors[gi] = 0;
      }
      gCount[gi]!++;
      if (flags & F_ERROR) gErrors[gi]!++;
    }
    live.add(ep);
    markChanged(ep);
  }

  function slot(ring: Array<Slot | undefined>, epoch: number, withHist: boolean): Slot {
    const i = mod(epoch, ring.length);
    let s = ring[i];
    if (!s) {
      ring[i] = s = new Slot();
      if (withHist) s.hist = new Uint32Array(HISTOGRAM_BOUNDS.length);
    }
    if (s.epoch !== epoch) {
      s.clear();
      s.epoch = epoch;
      s.hist?.fill(0);
    }
    return s;
  }

  // ------------------------------------------------------------ reads

  function windowAcc(ring: Array<Slot | undefined>, epoch: number, hist?: number[]): Acc {
    const acc = new Acc();
    for (const s of ring) {
      if (!s || s.epoch > epoch || s.epoch <= epoch - ring.length || s.count === 0) continue;
      acc.merge(s);
      if (hist && s.hist) for (let i = 0; i < hist.length; i++) hist[i]! += s.hist[i]!;
    }
    return acc;
  }

  /** The 1m window alone (all that alerts read), cached like figures(). */
  function minute(ep: Endpoint, now: number): LatencySummary {
    const fe = Math.floor(now / FINE_MS);
    const cached = ep.minute;
    if (cached && cached.fe === fe) return cached.w1;
    const w1 = windowAcc(ep.fine, fe).summary();
    ep.minute = { fe, w1 };
    return w1;
  }

  /** The costly part of an endpoint's stats, cached until a sample arrives or a slot boundary passes. */
  function figures(ep: Endpoint, now: number): Figures {
    const fe = Math.floor(now / FINE_MS);
    const ce = Math.floor(now / COARSE_MS);
    const cached = ep.figures;
    if (cached && cached.fe === fe && cached.ce === ce) return cached;
    const counts: number[] = new Array(HISTOGRAM_BOUNDS.length).fill(0);
    const f: Figures = {
      fe,
      ce,
      all: ep.life.summary(),
      w1: minute(ep, now),
      w5: windowAcc(ep.coarse, ce, counts).summary(),
      counts,
    };
    ep.figures = f;
    return f;
  }

  function stats(ep: Endpoint, now: number): EndpointStats {
    const { fe, all, w1, w5, counts } = figures(ep, now);
    const windowStart = Math.max(ep.since, (fe - FINE_SLOTS + 1) * FINE_MS);
    const span = Math.max(1, (now - windowStart) / 1000);
    const statusCodes: EndpointStats['statusCodes'] = {};
    for (let i = 0; i < 5; i++) if (ep.codes[i]) statusCodes[STATUS_CLASSES[i]!] = ep.codes[i];
    const out: EndpointStats = {
      id: ep.id,
      method: ep.method,
      route: ep.route,
      kind: ep.kind,
      ...all,
      statusCodes,
      windows: { '1m': { ...w1 }, '5m': { ...w5 }, all: { ...all } },
      rate: round(w1.count / span),
      lastSeen: ep.lastSeen,
      histogram: { bounds: HISTOGRAM_BOUNDS.slice(), counts: counts.slice() },
    };
    if (ep.location) out.location = ep.location;
    if (ep.handlerLocation) out.handlerLocation = ep.handlerLocation;
    return out;
  }

  /** Marks endpoints whose window figures moved because a slot boundary passed. */
  function slide(now: number): void {
    const fe = Math.floor(now / FINE_MS);
    if (fe === lastTakeEpoch) return;
    lastTakeEpoch = fe;
    const ce = Math.floor(now / COARSE_MS);
    for (const ep of live) {
      markChanged(ep);
      if (ep.lastCoarse <= ce - COARSE_SLOTS) {
        // Its data left every window: free the slots (the figures already read as empty).
        live.delete(ep);
        ep.fine.fill(undefined);
        ep.coarse.fill(undefined);
      }
    }
  }

  function globalWindow(now: number): { requestsPerSecond: number; errorRate: number } {
    const fe = Math.floor(now / FINE_MS);
    let count = 0;
    let errors = 0;
    for (let i = 0; i < FINE_SLOTS; i++) {
      const e = gEpoch[i]!;
      if (e > fe - FINE_SLOTS && e <= fe) {
        count += gCount[i]!;
        errors += gErrors[i]!;
      }
    }
    const span = Math.max(1, (now - Math.max(startedAt, (fe - FINE_SLOTS + 1) * FINE_MS)) / 1000);
    return { requestsPerSecond: round(count / span), errorRate: count ? round(errors / count) : 0 };
  }

  function zero(ep: Endpoint, now: number): void {
    ep.clear(now);
    live.delete(ep);
    markChanged(ep);
  }

  return {
    registerRoute(def: RouteDefinition): void {
      if (closed) return;
      try {
        const method = def.method === 'ALL' ? 'ALL' : KNOWN_METHODS.has(def.method) ? def.method : OTHER_METHOD;
        const route = routeKey(String(def.route));
        let ep = table(method).routes.get(route);
        if (!ep) {
          if (endpointCount >= maxEndpoints) {
            capWarning();
            return;
          }
          ep = create(method, route, 'route');
        }
        if (!ep.registered) {
          // The first registration's location wins; an endpoint seen before its registration gets it now.
          ep.registered = true;
          ep.location = def.location;
          ep.handlerLocation = def.handlerLocation;
          markChanged(ep);
        } else if (def.handlerLocation && !ep.handlerLocation && sameSite(ep.location, def.location)) {
          // The handler's own site is found later (off the request path) and reported again for the same registration.
          ep.handlerLocation = def.handlerLocation;
          markChanged(ep);
        }
      } catch (err) {
        diag.failure('metrics.registerRoute', err);
      }
    },

    record,
    recordCustom,

    endpoints(): EndpointStats[] {
      safeDrain();
      const now = clock();
      const out: EndpointStats[] = [];
      for (const ep of byId.values()) out.push(stats(ep, now));
      return out;
    },

    alertEndpoints(): AlertEndpoint[] {
      safeDrain();
      const now = clock();
      const out: AlertEndpoint[] = [];
      for (const ep of byId.values()) out.push({ id: ep.id, kind: ep.kind, location: ep.location, handlerLocation: ep.handlerLocation, windows: { '1m': minute(ep, now) } });
      return out;
    },

    endpoint(id: string): EndpointStats | undefined {
      safeDrain();
      const ep = byId.get(id);
      return ep ? stats(ep, clock()) : undefined;
    },

    takeChangedEndpoints(): EndpointStats[] {
      safeDrain();
      const now = clock();
      slide(now);
      const list = changed;
      changed = [];
      const out: EndpointStats[] = [];
      for (const ep of list) {
        ep.dirty = false;
        if (!ep.removed) out.push(stats(ep, now));
      }
      return out;
    },

    takeRemovedEndpoints(): string[] {
      const ids = [...removedIds].filter((id) => !byId.has(id));
      removedIds = new Set();
      return ids;
    },

    system(): SystemStats {
      safeDrain();
      const now = clock();
      const g = globalWindow(now);
      return system.stats(now, g.requestsPerSecond, g.errorRate);
    },

    sampleSystem(): void {
      system.sample();
    },

    queued(): number {
      return qLen;
    },

    slowLastMinute(): number {
      const fe = Math.floor(clock() / FINE_MS);
      let count = 0;
      for (let i = 0; i < FINE_SLOTS; i++) {
        const e = slowEpoch[i]!;
        if (e > fe - FINE_SLOTS && e <= fe) count += slowCount[i]!;
      }
      return count;
    },

    slowRequests(): SlowRequest[] {
      return newest(slowRingSize);
    },

    takeNewSlowRequests(): SlowRequest[] {
      const out = newest(slowFresh);
      slowFresh = 0;
      return out;
    },

    droppedEndpoints(): number {
      safeDrain();
      return dropped;
    },

    reset(endpointId?: string): number {
      try {
        safeDrain();
        const now = clock();
        if (endpointId === undefined) {
          const n = byId.size;
          for (const ep of [...byId.values()]) {
            if (ep.registered) zero(ep, now);
            else remove(ep);
          }
          dropped = 0;
          startedAt = now;
          gEpoch.fill(-1);
          slowEpoch.fill(-1);
          slowRing.fill(undefined);
          slowFresh = 0;
          return n;
        }
        const ep = byId.get(endpointId);
        if (!ep) return 0;
        if (ep === overflow) dropped = 0;
        if (ep.registered) zero(ep, now);
        else remove(ep);
        return 1;
      } catch (err) {
        diag.failure('metrics.reset', err);
        return 0;
      }
    },

    setSlowThresholds(next: Thresholds['slowMs']): void {
      slowMs = { ...slowMs, ...next };
    },

    close(): void {
      if (closed) return;
      closed = true;
      clearTimeout(drainTimer);
      system.close();
      qEp.fill(undefined);
      qLen = 0;
    },
  };

  function newest(n: number): SlowRequest[] {
    const out: SlowRequest[] = [];
    for (let k = 1; k <= n; k++) {
      const r = slowRing[mod(slowHead - k, slowRingSize)];
      if (!r) break;
      out.push(r);
    }
    return out;
  }
}

function clampDuration(d: unknown): number {
  if (typeof d !== 'number' || !(d > 0)) return 0; // NaN, negative, non-numbers
  return d > MAX_DURATION ? MAX_DURATION : d;
}

function bucket(d: number): number {
  let i = 0;
  while (d > HISTOGRAM_BOUNDS[i]!) i++;
  return i;
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function sameSite(a: SourceLocation | undefined, b: SourceLocation | undefined): boolean {
  if (!a || !b) return a === b;
  return a.file === b.file && a.line === b.line && a.column === b.column;
}
