/**
 * The agent's span recorder: which requests are traced (the sampler), what is kept of them
 * (traces per route: the slowest of the last 5 minutes and a few recent ordinary ones; a
 * summary per traced request for the breakdowns), and who is told of each finished trace.
 *
 * Sampling, per route: the first FIRST_PER_ROUTE requests, then `sample` requests per second
 * (a token bucket), or every request with `sample: 'all'`. Counts and timings of every request
 * are recorded by metrics regardless; only spans are sampled. Memory: at most `maxSpans` spans
 * per request (the rest counted in droppedSpans), MAX_ROUTES routes, SLOWEST + RECENT traces
 * and MAX_SUMMARIES summaries per route, MAX_TOTAL_SUMMARIES in all (past it, the oldest of the
 * route holding the most go first).
 */
import type { Breakdown, Span, Trace, WindowName } from '../../protocol';
import type { RequestSample } from '../internal';
import type { Diagnostics } from '../log';
import { round } from '../text';
import { type TraceSummary, aggregate, summarise } from './breakdown';
import { locateFunctions } from './locate';
import { type SpanSink, TraceBuffer, decide } from './recorder';

export interface SpanOptions {
  /** Traced requests per second per route after the first ones, or 'all' (every request). */
  sample: number | 'all';
  maxSpansPerRequest: number;
}

/** Told of every traced request when it finishes (main thread; keep it cheap, never throw). */
export type TraceListener = (trace: Trace) => void;

export const FIRST_PER_ROUTE = 20;
const MAX_ROUTES = 500;
const SLOWEST = 5;
const RECENT = 3;
const SLOWEST_MS = 5 * 60_000;
const MAX_SUMMARIES = 500;
/** Summaries kept over all routes (a few hundred bytes each): 500 routes × 500 would be ~75 MB of the app's heap. */
export const MAX_TOTAL_SUMMARIES = 20_000;
const WINDOW_MS: Record<WindowName, number> = { '1m': 60_000, '5m': 5 * 60_000, all: Infinity };

interface RouteSpans {
  seen: number;
  tokens: number;
  refilled: number;
  slowest: Trace[];
  recent: Trace[];
  summaries: TraceSummary[];
  lastRecent: number;
}

export class SpanRecorder implements SpanSink {
  readonly maxSpans: number;
  private readonly routes = new Map<string, RouteSpans>();
  private readonly listeners: TraceListener[] = [];
  private seq = 0;
  /** Summaries kept over every route. */
  private summaryCount = 0;

  constructor(
    readonly options: SpanOptions,
    private readonly diag: Diagnostics,
    private readonly clock: () => number = Date.now,
  ) {
    this.maxSpans = options.maxSpansPerRequest;
  }

  get sampled(): boolean {
    return this.options.sample !== 'all';
  }

  /** The findings' hook: `listener` gets every traced request's Trace when it finishes. Returns the unsubscribe. */
  onTrace(listener: TraceListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  admit(method: string, route: string): boolean {
    const r = this.route(`${method} ${route}`);
    if (r === undefined) return false;
    const sample = this.options.sample;
    if (sample === 'all' || r.seen++ < FIRST_PER_ROUTE) return true;
    const now = performance.now();
    r.tokens = Math.min(Math.max(1, sample), r.tokens + ((now - r.refilled) / 1000) * sample);
    r.refilled = now;
    if (r.tokens < 1) return false;
    r.tokens--;
    return true;
  }

  /** Called with every request's sample (the one finished request's context); O(spans) for a traced one, O(1) otherwise. */
  finish(sample: RequestSample): void {
    const ctx = sample as RequestSample & { trace?: unknown };
    const b = ctx.trace;
    if (!(b instanceof TraceBuffer) || b.sink !== this) return;
    ctx.trace = null;
    try {
      if (!b.decided) {
        if (sample.route === undefined) return;
        decide(b, sample.method, sample.route);
      }
      if (b.off) return;
      this.keep(b, sample);
    } catch (err) {
      this.diag.failure('spans.finish', err);
    }
  }

  private keep(b: TraceBuffer, sample: RequestSample): void {
    const endpoint = `${sample.method} ${sample.route}`;
    const r = this.route(endpoint);
    if (r === undefined) return;
    const duration = sample.duration;
    for (const s of b.spans) if (s.durationMs < 0 || s.startMs + s.durationMs > duration) s.durationMs = Math.max(0, duration - s.startMs);
    const now = this.clock();
    this.addSummary(r, summarise(b.spans, duration, now));
    const slowest = r.slowest.filter((t) => t.startedAt + t.durationMs >= now - SLOWEST_MS);
    const entersSlowest = slowest.length < SLOWEST || duration > slowest[slowest.length - 1]!.durationMs;
    r.slowest = slowest;
    // A recent ordinary trace is built at most once a second per route unless someone listens.
    if (!entersSlowest && this.listeners.length === 0 && now - r.lastRecent < 1000) return;
    if (!entersSlowest) r.lastRecent = now;
    const trace = this.build(b, sample, endpoint, entersSlowest ? 'slowest' : 'recent');
    if (entersSlowest) {
      slowest.push(trace);
      slowest.sort((a, c) => c.durationMs - a.durationMs);
      if (slowest.length > SLOWEST) slowest.length = SLOWEST;
    } else {
      r.recent.push(trace);
      if (r.recent.length > RECENT) r.recent.shift();
    }
    for (const listener of this.listeners) {
      try {
        listener(trace);
      } catch (err) {
        this.diag.failure('spans.listener', err);
      }
    }
  }

  private build(b: TraceBuffer, sample: RequestSample, endpoint: string, kept: Trace['kept']): Trace {
    const located = locateFunctions(b.fns);
    const spans: Span[] = b.spans.map((s, i) => {
      const out: Span = { ...s, startMs: round(s.startMs), durationMs: round(s.durationMs) };
      const loc = located[i];
      if (out.location === undefined && loc !== undefined) out.location = loc;
      return out;
    });
    return {
      id: `${(++this.seq).toString(36)}-${sample.requestId}`,
      requestId: sample.requestId,
      method: sample.method,
      route: sample.route ?? '',
      endpoint,
      status: sample.status,
      startedAt: sample.start,
      durationMs: round(sample.duration),
      spans,
      droppedSpans: b.dropped,
      kept,
    };
  }

  /** One endpoint's kept traces: the slowest (slowest first), then the recent ones (newest first). */
  traces(endpoint: string, limit = 20): Trace[] {
    const r = this.routes.get(endpoint);
    if (r === undefined) return [];
    const now = this.clock();
    const slowest = r.slowest.filter((t) => t.startedAt + t.durationMs >= now - SLOWEST_MS);
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
  private addSummary(r: RouteSpans, summary: TraceSummary): void {
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

  private route(endpoint: string): RouteSpans | undefined {
    let r = this.routes.get(endpoint);
    if (r === undefined) {
      if (this.routes.size >= MAX_ROUTES) return undefined;
      r = { seen: 0, tokens: 1, refilled: performance.now(), slowest: [], recent: [], summaries: [], lastRecent: 0 };
      this.routes.set(endpoint, r);
    }
    return r;
  }
}
