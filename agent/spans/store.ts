/**
 * The agent's span recorder, in the app's thread: which requests are traced (the sampler), what
 * of them is kept (the slowest of the last 5 minutes and a few recent ordinary ones, keep.ts),
 * and who is told of each finished trace. What is kept goes to a TraceKeeper: the back end's
 * SpanKeeper (in the agent's worker by default), so the traces and summaries are not the app's heap.
 *
 * Sampling, per route: the first FIRST_PER_ROUTE requests, then `sample` requests per second
 * (a token bucket), or every request with `sample: 'all'`. Counts and timings of every request
 * are recorded by metrics regardless; only spans are sampled. Memory here: at most `maxSpans`
 * spans per request being traced (the rest counted in droppedSpans), and per route (MAX_ROUTES)
 * the sampler's state and the durations of its slowest traces.
 */
import type { Span, Trace } from '../../protocol';
import type { RequestSample } from '../internal';
import type { Diagnostics } from '../log';
import { round } from '../text';
import { summarise } from './breakdown';
import { MAX_ROUTES, type TraceKeeper, slowestFlat } from './keep';
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

/** A sampling budget: the first FIRST_PER_ROUTE requests, then `sample` a second (a token bucket). */
interface Budget {
  seen: number;
  tokens: number;
  refilled: number;
}

/** Whether `b` admits one more request (taking its token). */
function takeFrom(b: Budget, sample: number | 'all'): boolean {
  if (sample === 'all' || b.seen++ < FIRST_PER_ROUTE) return true;
  const now = performance.now();
  b.tokens = Math.min(Math.max(1, sample), b.tokens + ((now - b.refilled) / 1000) * sample);
  b.refilled = now;
  if (b.tokens < 1) return false;
  b.tokens--;
  return true;
}

interface RouteSpans extends Budget {
  /** `METHOD route`, made once per route: every trace and traced request of the route carries this one string. */
  readonly endpoint: string;
  /** The kept slowest traces' durations and ends, flat (keep.ts's slowestFlat; the keeper holds the traces). */
  slowest: readonly number[];
  lastRecent: number;
}

export class SpanRecorder implements SpanSink {
  readonly maxSpans: number;
  /** By method, then by route: the keys are the strings the requests carry, not a new one per route. */
  private readonly routes = new Map<string, Map<string, RouteSpans>>();
  private routeCount = 0;
  private readonly unrouted: Budget = { seen: 0, tokens: 1, refilled: performance.now() };
  private readonly listeners: TraceListener[] = [];
  private seq = 0;
  private keeper: TraceKeeper | undefined;

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

  /** Where kept traces and every traced request's summary go (nothing is kept before). */
  keepInto(keeper: TraceKeeper): void {
    this.keeper = keeper;
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
    const r = this.route(method, route);
    return r !== undefined && takeFrom(r, this.options.sample);
  }

  /** For a request whose route is not known at its start (no route matches its path): one budget shared by all such requests. */
  admitUnrouted(): boolean {
    return takeFrom(this.unrouted, this.options.sample);
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
    const r = this.route(sample.method, String(sample.route));
    if (r === undefined) return;
    const endpoint = r.endpoint;
    const duration = sample.duration;
    for (const s of b.spans) if (s.durationMs < 0 || s.startMs + s.durationMs > duration) s.durationMs = Math.max(0, duration - s.startMs);
    const now = this.clock();
    const summary = summarise(b.spans, duration, now);
    const durationMs = round(duration);
    r.slowest = slowestFlat.still(r.slowest, now);
    // A recent ordinary trace is kept at most once a second per route unless someone listens.
    const kept = slowestFlat.enters(r.slowest, durationMs) ? 'slowest' : this.listeners.length > 0 || now - r.lastRecent >= 1000 ? 'recent' : undefined;
    if (kept === undefined) {
      this.keeper?.keep({ endpoint, summary });
      return;
    }
    const trace = this.build(b, sample, endpoint, kept);
    if (kept === 'slowest') r.slowest = slowestFlat.with(r.slowest, durationMs, sample.start + durationMs);
    else r.lastRecent = now;
    this.keeper?.keep({ endpoint, summary, trace });
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

  private route(method: string, route: string): RouteSpans | undefined {
    let routes = this.routes.get(method);
    let r = routes?.get(route);
    if (r === undefined) {
      if (this.routeCount >= MAX_ROUTES) return undefined;
      if (routes === undefined) this.routes.set(method, (routes = new Map()));
      r = { endpoint: `${method} ${route}`, seen: 0, tokens: 1, refilled: performance.now(), slowest: [], lastRecent: 0 };
      routes.set(route, r);
      this.routeCount++;
    }
    return r;
  }
}
