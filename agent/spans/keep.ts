/**
 * What the agent keeps of traced requests, per route: the slowest traces of the last 5 minutes
 * and a few recent ordinary ones (traces.list), and one summary per traced request for the
 * breakdowns (endpoint.breakdown). It lives with the back end (in the agent's worker by
 * default); the app's thread decides what to keep (store.ts) and hands each traced request over
 * as a TracedRequest.
 *
 * Memory: MAX_ROUTES routes, SLOWEST + RECENT traces and MAX_SUMMARIES summaries per route,
 * MAX_TOTAL_SUMMARIES in all (past it, the oldest of the route holding the most go first).
 */
import type { Breakdown, Trace, WindowName } from '../../protocol';
import { type TraceSummary, aggregate } from './breakdown';

export const MAX_ROUTES = 500;
const SLOWEST = 5;
const RECENT = 3;
const SLOWEST_MS = 5 * 60_000;
const MAX_SUMMARIES = 500;
/** Summaries kept over all routes (a few hundred bytes each): 500 routes × 500 would be ~75 MB. */
export const MAX_TOTAL_SUMMARIES = 20_000;
const WINDOW_MS: Record<WindowName, number> = { '1m': 60_000, '5m': 5 * 60_000, all: Infinity };

/**
 * The slowest-traces rule, as the keeper applies it to the traces the recorder decided to keep
 * (slowestFlat below is the recorder's layout of it): `list` (slowest first) without what ended
 * over SLOWEST_MS before `now`.
 */
export function stillSlowest<T extends { durationMs: number }>(list: readonly T[], now: number, end: (t: T) => number): T[] {
  return list.filter((t) => end(t) >= now - SLOWEST_MS);
}

/**
 * `list` with `item` in it (slowest first), keeping the SLOWEST slowest (a tie goes after those
 * already in): a new array of just its length (one per route is kept; push would leave room for
 * 16 more in each).
 */
export function withSlowest<T extends { durationMs: number }>(list: readonly T[], item: T): T[] {
  return [...list, item].sort((a, c) => c.durationMs - a.durationMs).slice(0, SLOWEST);
}

/**
 * The same rule in the recorder's layout, which keeps a route's slowest as one array of doubles
 * (duration, end, duration, end, …; slowest first): no object and no boxed number per trace.
 */
export const slowestFlat = {
  /** `list` without what ended over SLOWEST_MS before `now` (`list` itself when nothing did). */
  still(list: readonly number[], now: number): readonly number[] {
    let expired = false;
    for (let i = 1; i < list.length; i += 2) if (list[i]! < now - SLOWEST_MS) expired = true;
    if (!expired) return list;
    const out: number[] = [];
    for (let i = 0; i < list.length; i += 2) if (list[i + 1]! >= now - SLOWEST_MS) out.push(list[i]!, list[i + 1]!);
    return out.slice();
  },
  /** Whether a request of `durationMs` enters `list` (as `still` left it): whether `with` would keep it. */
  enters(list: readonly number[], durationMs: number): boolean {
    return list.length < SLOWEST * 2 || durationMs > list[list.length - 2]!;
  },
  /** `list` with (durationMs, end) in it, keeping the SLOWEST slowest, in a new array of just its length. */
  with(list: readonly number[], durationMs: number, end: number): number[] {
    const out: number[] = [];
    let placed = false;
    for (let i = 0; i < list.length; i += 2) {
      if (!placed && durationMs > list[i]!) {
        out.push(durationMs, end);
        placed = true;
      }
      out.push(list[i]!, list[i + 1]!);
    }
    if (!placed) out.push(durationMs, end);
    return out.slice(0, SLOWEST * 2);
  },
};

const traceEnd = (t: Trace): number => t.startedAt + t.durationMs;

/** One traced request as handed over: its summary, and its trace when it is kept (`trace.kept` says as what). */
export interface TracedRequest {
  endpoint: string;
  summary: TraceSummary;
  trace?: Trace;
}

/** Where the app's thread hands traced requests. */
export interface TraceKeeper {
  keep(request: TracedRequest): void;
}

interface KeptRoute {
  slowest: Trace[];
  recent: Trace[];
  summaries: TraceSummary[];
}

export class SpanKeeper implements TraceKeeper {
  private readonly routes = new Map<string, KeptRoute>();
  /** Summaries kept over every route. */
  private summaryCount = 0;

  constructor(
    /** Requests are traced by sampling (not every one): breakdowns say so. */
    readonly sampled: boolean,
    private readonly clock: () => number = Date.now,
  ) {}

  keep(request: TracedRequest): void {
    const r = this.route(request.endpoint);
    if (r === undefined) return;
    this.addSummary(r, request.summary);
    const trace = request.trace;
    if (trace === undefined) return;
    if (trace.kept === 'slowest') {
      r.slowest = withSlowest(stillSlowest(r.slowest, this.clock(), traceEnd), trace);
    } else {
      r.recent.push(trace);
      if (r.recent.length > RECENT) r.recent.shift();
    }
  }

  /** One endpoint's kept traces: the slowest (slowest first), then the recent ones (newest first). */
  traces(endpoint: string, limit = 20): Trace[] {
    const r = this.routes.get(endpoint);
    if (r === undefined) return [];
    const slowest = stillSlowest(r.slowest, this.clock(), traceEnd);
    const ids = new Set(slowest.map((t) => t.id));
    return [...slowest, ...[...r.recent].reverse().filter((t) => !ids.has(t.id))].slice(0, limit);
  }

  /** One endpoint's breakdown over a window; `requests`: all its requests in that window (traced or not). */
  breakdown(endpoint: string, window: WindowName, requests: number): Breakdown {
    const r = this.routes.get(endpoint);
    const since = this.clock() - WINDOW_MS[window];
    const summaries = r === undefined ? [] : r.summaries.filter((s) => s.time >= since);
    return aggregate(endpoint, window, summaries, requests, this.sampled);
  }

  /** Whether any request of the endpoint was traced. */
  has(endpoint: string): boolean {
    return this.routes.has(endpoint);
  }

  /** Keeps `summary` within the per-route and the total bounds. */
  private addSummary(r: KeptRoute, summary: TraceSummary): void {
    r.summaries.push(summary);
    this.summaryCount++;
    if (r.summaries.length > MAX_SUMMARIES) {
      r.summaries.shift();
      this.summaryCount--;
    }
    if (this.summaryCount <= MAX_TOTAL_SUMMARIES) return;
    // The route with the most summaries gives up its oldest (this one, while it holds its share or more).
    let from = r;
    if (r.summaries.length < MAX_TOTAL_SUMMARIES / this.routes.size) for (const o of this.routes.values()) if (o.summaries.length > from.summaries.length) from = o;
    from.summaries.shift();
    this.summaryCount--;
  }

  private route(endpoint: string): KeptRoute | undefined {
    let r = this.routes.get(endpoint);
    if (r === undefined) {
      if (this.routes.size >= MAX_ROUTES) return undefined;
      r = { slowest: [], recent: [], summaries: [] };
      this.routes.set(endpoint, r);
    }
    return r;
  }
}
