/**
 * The detectors that read one trace on its own: n-plus-one, slow-query and
 * sequential-awaits. Each returns observations (a finding seen in one request);
 * the engine (index.ts) folds them into findings by id. Pure: a trace in,
 * observations out, O(spans) apart from a sort of one parent's children.
 */
import type { FindingKind, SourceLocation, Span, SpanKind, Trace } from '../../protocol';
import { ms, pct, short } from '../alerts/format';

/** A finding seen in one request (or one reading of the cache's figures). */
export interface Observation {
  kind: FindingKind;
  severity: 'info' | 'warning';
  endpoint: string;
  location: SourceLocation;
  message: string;
  recommendation: string;
  evidence: Record<string, number | string>;
  /** The request it was seen in, when one. */
  requestId?: string;
}

export interface DetectOptions {
  /** The same operation this many times in one request, at one call site, is an N+1. */
  nPlusOne: number;
  /** A db/redis/http/custom span this long or longer is slow (ms): Thresholds.slowQueryMs. */
  slowQueryMs: number;
  /** Calls one after another count as sequential when each starts within this many ms after the previous ended. */
  sequentialGapMs: number;
  /** Sequential calls are reported when running them together would save at least this many ms. */
  sequentialMinSavingMs: number;
  /** Where a span without a location of its own (nor its parents) is pinned: the route's handler. */
  routeLocation?: (endpoint: string) => SourceLocation | undefined;
}

/** The kinds of span that are a query, a command or a request to another service. */
const IO_KINDS: ReadonlySet<SpanKind> = new Set(['db', 'redis', 'http']);
/** The kinds a slow query may be: IO and `agent.time()` blocks. */
export const SLOW_KINDS: ReadonlySet<SpanKind> = new Set(['db', 'redis', 'http', 'custom']);

/** The span's own location, else its nearest parent's, else the route handler's. */
export function locate(trace: Trace, index: number, options: Pick<DetectOptions, 'routeLocation'>): SourceLocation | undefined {
  const seen = new Set<number>();
  for (let i: number | undefined = index; i !== undefined && !seen.has(i); i = trace.spans[i]?.parent) {
    seen.add(i);
    const location = trace.spans[i]?.location;
    if (location) return location;
  }
  return options.routeLocation?.(trace.endpoint);
}

export function locationKey(l: SourceLocation): string {
  return `${l.file}:${l.line}:${l.column}`;
}

/** Milliseconds covered by the union of the spans' intervals (concurrent runs counted once). */
export function coveredMs(spans: readonly Span[]): number {
  const sorted = [...spans].sort((a, b) => a.startMs - b.startMs);
  let total = 0;
  let end = -Infinity;
  for (const s of sorted) {
    const e = s.startMs + s.durationMs;
    if (e <= end) continue;
    total += e - Math.max(s.startMs, end);
    end = e;
  }
  return total;
}

/** Every detector of this file over one trace. */
export function detectTrace(trace: Trace, options: DetectOptions): Observation[] {
  const out: Observation[] = [];
  nPlusOne(trace, options, out);
  slowQueries(trace, options, out);
  sequentialAwaits(trace, options, out);
  return out;
}

function nPlusOne(trace: Trace, options: DetectOptions, out: Observation[]): void {
  const groups = new Map<string, { spans: Span[]; location: SourceLocation }>();
  trace.spans.forEach((span, i) => {
    if (!IO_KINDS.has(span.kind)) return;
    const location = locate(trace, i, options);
    if (!location) return;
    const key = `${span.kind}\u0000${span.name}\u0000${locationKey(location)}`;
    const group = groups.get(key);
    if (group) group.spans.push(span);
    else groups.set(key, { spans: [span], location });
  });
  for (const { spans, location } of groups.values()) {
    if (spans.length < options.nPlusOne) continue;
    const first = spans[0]!;
    const totalMs = spans.reduce((sum, s) => sum + s.durationMs, 0);
    const wallMs = coveredMs(spans);
    const share = trace.durationMs > 0 ? Math.min(1, wallMs / trace.durationMs) : 0;
    const concurrent = wallMs < totalMs - 0.5;
    out.push({
      kind: 'n-plus-one',
      severity: share >= 0.2 || spans.length >= 2 * options.nPlusOne ? 'warning' : 'info',
      endpoint: trace.endpoint,
      location,
      message: `${short(first.name)} ran ${spans.length}× in one request of ${short(trace.endpoint)} (${concurrent ? 'concurrently' : 'one after another'}), ${ms(wallMs)} in all (${pct(share)} of the request)`,
      recommendation: batchAdvice(first.kind),
      evidence: { count: spans.length, totalMs: round1(totalMs), wallMs: round1(wallMs), share: round3(share), mode: concurrent ? 'concurrent' : 'sequential', operation: short(first.name) },
      requestId: trace.requestId,
    });
  }
}

function batchAdvice(kind: SpanKind): string {
  if (kind === 'redis') return 'read the keys in one round trip: MGET/HMGET, or a pipeline';
  if (kind === 'http') return 'fetch them in one call (a batch endpoint), or cache the responses';
  return 'load the rows in one query (WHERE … IN (?) / = ANY(?), or a join), or batch the calls with a loader such as DataLoader';
}

function slowQueries(trace: Trace, options: DetectOptions, out: Observation[]): void {
  trace.spans.forEach((span, i) => {
    if (!SLOW_KINDS.has(span.kind) || span.durationMs < options.slowQueryMs) return;
    const location = locate(trace, i, options);
    if (!location) return;
    out.push({
      kind: 'slow-query',
      severity: 'warning',
      endpoint: trace.endpoint,
      location,
      message: `${short(span.name)} took ${ms(span.durationMs)} in a request of ${short(trace.endpoint)} (threshold ${ms(options.slowQueryMs)})`,
      recommendation: slowAdvice(span.kind),
      evidence: { durationMs: round1(span.durationMs), thresholdMs: options.slowQueryMs, kind: span.kind, operation: short(span.name) },
      requestId: trace.requestId,
    });
  });
}

function slowAdvice(kind: SpanKind): string {
  if (kind === 'db') return 'look at its plan (EXPLAIN ANALYZE) for a missing index or a scan; return fewer rows or columns';
  if (kind === 'redis') return 'avoid O(N) commands (KEYS, large ranges, big values) on the request path; use SCAN or smaller values';
  if (kind === 'http') return 'give the call a timeout, cache its response, or move it off the request path';
  return 'look at what this timed block does, or move it off the request path';
}

/**
 * Runs of IO calls under one parent where each starts within `sequentialGapMs` after the previous
 * ended (awaited one after another, nothing in between), of at least two different operations
 * (the same one repeated is an N+1), that would save `sequentialMinSavingMs` run together.
 */
function sequentialAwaits(trace: Trace, options: DetectOptions, out: Observation[]): void {
  const byParent = new Map<number, Array<{ span: Span; index: number }>>();
  trace.spans.forEach((span, index) => {
    if (!IO_KINDS.has(span.kind)) return;
    const parent = span.parent ?? -1;
    const list = byParent.get(parent);
    if (list) list.push({ span, index });
    else byParent.set(parent, [{ span, index }]);
  });
  for (const calls of byParent.values()) {
    if (calls.length < 2) continue;
    calls.sort((a, b) => a.span.startMs - b.span.startMs);
    let run = [calls[0]!];
    for (let k = 1; k <= calls.length; k++) {
      const next = calls[k];
      const prev = run[run.length - 1]!.span;
      const prevEnd = prev.startMs + prev.durationMs;
      if (next && next.span.startMs >= prevEnd && next.span.startMs - prevEnd <= options.sequentialGapMs) {
        run.push(next);
        continue;
      }
      reportRun(trace, run, options, out);
      if (next) run = [next];
    }
  }
}

function reportRun(trace: Trace, run: Array<{ span: Span; index: number }>, options: DetectOptions, out: Observation[]): void {
  if (run.length < 2) return;
  const names = new Set(run.map((c) => `${c.span.kind} ${c.span.name}`));
  if (names.size < 2) return;
  const totalMs = run.reduce((sum, c) => sum + c.span.durationMs, 0);
  const longestMs = Math.max(...run.map((c) => c.span.durationMs));
  const savingMs = totalMs - longestMs;
  if (savingMs < options.sequentialMinSavingMs) return;
  const location = locate(trace, run[0]!.index, options);
  if (!location) return;
  const ops = [...names].slice(0, 3).map((n) => short(n));
  out.push({
    kind: 'sequential-awaits',
    severity: 'info',
    endpoint: trace.endpoint,
    location,
    message: `${run.length} calls in ${short(trace.endpoint)} ran one after another (${ops.join(', ')}${names.size > 3 ? ', …' : ''}), ${ms(totalMs)} in all; if they are independent, running them together may take ${ms(longestMs)}`,
    recommendation: 'if no call needs another one\'s result, start them together and await Promise.all([...])',
    evidence: { calls: run.length, totalMs: round1(totalMs), longestMs: round1(longestMs), savingMs: round1(savingMs) },
    requestId: trace.requestId,
  });
}

export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
