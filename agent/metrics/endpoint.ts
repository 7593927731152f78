/**
 * One endpoint's figures: the lifetime, status classes, and two sliding
 * windows kept as rings of sub-window slots merged on read:
 *   '1m' = the current 10 s slot + the 6 before it (covers 60–70 s),
 *   '5m' = the current 1 min slot + the 5 before it (covers 5–6 min).
 * What a read computes is cached until a sample arrives or a slot boundary passes.
 */
import type { EndpointKind, EndpointStats, LatencySummary, SourceLocation, StatusClass } from '../../protocol';
import { replayable } from '../history/paths';
import { round } from '../text';
import { HISTOGRAM_BOUNDS, LatencyAccumulator, binKey, histogramBucket, mod } from './summary';

export const FINE_MS = 10_000;
export const FINE_SLOTS = 7;
export const COARSE_MS = 60_000;
export const COARSE_SLOTS = 6;

const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx'];

export const fineEpoch = (t: number): number => Math.floor(t / FINE_MS);
export const coarseEpoch = (t: number): number => Math.floor(t / COARSE_MS);

/** One slot of a window ring: the samples of one sub-window (`epoch` = its start / its length). */
class WindowSlot extends LatencyAccumulator {
  epoch = -1;
  /** Counts per HISTOGRAM_BOUNDS bucket (coarse slots only): a plain array, smaller than a typed one of 17. */
  histogram: number[] | null = null;
}

/**
 * A ring's slots before its current one, merged: they take no more samples until the epoch moves
 * on (a clock set back aside), so a read merges this and the current slot instead of every slot.
 */
class PastSlots {
  /** The current epoch this merge was made for; NaN when it must be made again. */
  epoch = NaN;
  readonly acc = new LatencyAccumulator();
  readonly histogram: number[] | undefined;

  constructor(withHistogram: boolean) {
    this.histogram = withHistogram ? new Array<number>(HISTOGRAM_BOUNDS.length).fill(0) : undefined;
  }
}

/** The costly part of an endpoint's stats, valid while the slot epochs it was computed in are current. */
interface CachedFigures {
  fineEpoch: number;
  coarseEpoch: number;
  lifetime: LatencySummary;
  minute: LatencySummary;
  fiveMinutes: LatencySummary;
  histogram: number[];
}

export class Endpoint {
  registered = false;
  location: SourceLocation | undefined;
  handlerLocation: SourceLocation | undefined;
  lastSeen = 0;
  /** Epoch ms the figures start from (creation or reset); bounds the rate's time span. */
  since: number;
  /** Coarse epoch of the latest sample: the endpoint has window data while this is within the 5m ring. */
  lastCoarse = -Infinity;
  /** Revision of its latest change (see EndpointChanges). */
  revision = 0;
  removed = false;
  /**
   * A GET or HEAD route with parameters: its answers' paths are sampled for the history's recorded
   * paths. The next 2xx/3xx answer is taken when `pathCountdown` reaches 0; then `pathEvery`
   * answers pass before the next (1 while new paths fill the route's set, doubling up to
   * MAX_PATH_EVERY once they stop being new), so a steady stream of requests rarely reads a URL.
   */
  readonly replayable: boolean;
  pathEvery = 1;
  pathCountdown = 1;
  private readonly lifetime = new LatencyAccumulator();
  private readonly statusCounts = [0, 0, 0, 0, 0];
  private readonly fine: Array<WindowSlot | undefined> = new Array(FINE_SLOTS).fill(undefined);
  private readonly coarse: Array<WindowSlot | undefined> = new Array(COARSE_SLOTS).fill(undefined);
  /** The window rings' past slots merged, made at the first read. */
  private finePast: PastSlots | undefined;
  private coarsePast: PastSlots | undefined;
  /** Both cleared by every new sample. */
  private figures: CachedFigures | undefined;
  private minuteCache: { fineEpoch: number; summary: LatencySummary } | undefined;

  constructor(
    readonly id: string,
    readonly method: string,
    readonly route: string,
    readonly kind: EndpointKind,
    since: number,
  ) {
    this.since = since;
    this.replayable = kind === 'route' && replayable(method, route);
  }

  /** Since creation or the last reset: the request count and the latency sketch (base64 protobuf). */
  sketch(): { count: number; sketch: string } {
    return { count: this.lifetime.count, sketch: this.lifetime.encodedSketch() };
  }

  /** Aggregates one queued sample (off the request path). */
  add(d: number, status: number, flags: number, t: number): void {
    this.figures = undefined;
    this.minuteCache = undefined;
    const key = binKey(d);
    this.lifetime.add(d, key, flags);
    if (status >= 100 && status < 600) this.statusCounts[((status / 100) | 0) - 1]!++;
    if (t > this.lastSeen) this.lastSeen = t;
    const fe = fineEpoch(t);
    slot(this.fine, fe, false).add(d, key, flags);
    const ce = coarseEpoch(t);
    // A sample stamped before the current slot (the clock was set back) lands in a past one.
    if (this.finePast !== undefined && fe < this.finePast.epoch) this.finePast.epoch = NaN;
    if (this.coarsePast !== undefined && ce < this.coarsePast.epoch) this.coarsePast.epoch = NaN;
    const cs = slot(this.coarse, ce, true);
    cs.add(d, key, flags);
    cs.histogram![histogramBucket(d)]!++;
    if (ce > this.lastCoarse) this.lastCoarse = ce;
  }

  /** Zeroes every figure (a reset); the registration and its locations stay. */
  clear(since: number): void {
    this.lifetime.clear();
    this.statusCounts.fill(0);
    this.lastSeen = 0;
    this.since = since;
    this.forgetWindows();
  }

  /** Frees the window slots (their data left every window, or a reset). */
  forgetWindows(): void {
    this.fine.fill(undefined);
    this.coarse.fill(undefined);
    this.lastCoarse = -Infinity;
    this.figures = undefined;
    this.minuteCache = undefined;
    this.finePast = this.coarsePast = undefined;
  }

  /** The 1m window alone (all that alerts read), cached like the full figures. */
  minute(now: number): LatencySummary {
    const fe = fineEpoch(now);
    const cached = this.minuteCache;
    if (cached && cached.fineEpoch === fe) return cached.summary;
    const summary = merged(this.fine, fe, (this.finePast ??= new PastSlots(false))).summary();
    this.minuteCache = { fineEpoch: fe, summary };
    return summary;
  }

  stats(now: number): EndpointStats {
    const f = this.cachedFigures(now);
    const windowStart = Math.max(this.since, (f.fineEpoch - FINE_SLOTS + 1) * FINE_MS);
    const span = Math.max(1, (now - windowStart) / 1000);
    const statusCodes: EndpointStats['statusCodes'] = {};
    for (let i = 0; i < 5; i++) if (this.statusCounts[i]) statusCodes[STATUS_CLASSES[i]!] = this.statusCounts[i];
    const out: EndpointStats = {
      id: this.id,
      method: this.method,
      route: this.route,
      kind: this.kind,
      ...f.lifetime,
      statusCodes,
      windows: { '1m': { ...f.minute }, '5m': { ...f.fiveMinutes }, all: { ...f.lifetime } },
      rate: round(f.minute.count / span),
      lastSeen: this.lastSeen,
      histogram: { bounds: HISTOGRAM_BOUNDS.slice(), counts: f.histogram.slice() },
    };
    if (this.location) out.location = this.location;
    if (this.handlerLocation) out.handlerLocation = this.handlerLocation;
    return out;
  }

  private cachedFigures(now: number): CachedFigures {
    const fe = fineEpoch(now);
    const ce = coarseEpoch(now);
    const cached = this.figures;
    if (cached && cached.fineEpoch === fe && cached.coarseEpoch === ce) return cached;
    const histogram: number[] = new Array(HISTOGRAM_BOUNDS.length).fill(0);
    this.figures = {
      fineEpoch: fe,
      coarseEpoch: ce,
      lifetime: this.lifetime.summary(),
      minute: this.minute(now),
      fiveMinutes: merged(this.coarse, ce, (this.coarsePast ??= new PastSlots(true)), histogram).summary(),
      histogram,
    };
    return this.figures;
  }
}

/** The ring's slot for `epoch`, cleared when it last held an earlier lap. */
function slot(ring: Array<WindowSlot | undefined>, epoch: number, withHistogram: boolean): WindowSlot {
  const i = mod(epoch, ring.length);
  let s = ring[i];
  if (!s) {
    ring[i] = s = new WindowSlot();
    if (withHistogram) s.histogram = new Array<number>(HISTOGRAM_BOUNDS.length).fill(0);
  }
  if (s.epoch !== epoch) {
    s.clear();
    s.epoch = epoch;
    s.histogram?.fill(0);
  }
  return s;
}

/**
 * The slots of a ring that are inside the window ending at `epoch`, merged (and their histograms
 * added into `histogram`): `past`'s merge of the slots before `epoch` (made again when the epoch
 * moved on) and the current slot.
 */
function merged(ring: Array<WindowSlot | undefined>, epoch: number, past: PastSlots, histogram?: number[]): LatencyAccumulator {
  if (past.epoch !== epoch) {
    past.acc.clear();
    past.histogram?.fill(0);
    for (const s of ring) {
      if (!s || s.epoch >= epoch || s.epoch <= epoch - ring.length || s.count === 0) continue;
      past.acc.merge(s);
      if (past.histogram && s.histogram) addInto(past.histogram, s.histogram);
    }
    past.epoch = epoch;
  }
  const acc = new LatencyAccumulator();
  acc.merge(past.acc);
  if (histogram && past.histogram) addInto(histogram, past.histogram);
  const current = ring[mod(epoch, ring.length)];
  if (current && current.epoch === epoch && current.count > 0) {
    acc.merge(current);
    if (histogram && current.histogram) addInto(histogram, current.histogram);
  }
  return acc;
}

function addInto(into: number[], from: number[]): void {
  for (let i = 0; i < into.length; i++) into[i]! += from[i]!;
}
