/**
 * Where a traced request's time went, and a route's breakdown over many of them.
 *
 * Each instant of a request is attributed to one kind: the most specific span covering it (db,
 * redis and http over cache and ratelimit, over custom, over middleware, over the handler;
 * between equals, the later-started, i.e. the nested one). What no span but the handler covers,
 * and what no span covers at all, is `own`. So the kinds' shares of a request add up to 1 and
 * concurrent spans are counted once.
 */
import type { Breakdown, BreakdownKind, BreakdownOperation, SourceLocation, Span, SpanKind, WindowName } from '../../protocol';
import { round } from '../text';

export const BREAKDOWN_KINDS = ['own', 'middleware', 'db', 'redis', 'http', 'cache', 'ratelimit', 'custom'] as const;
type BreakdownKindName = (typeof BREAKDOWN_KINDS)[number];

const RANK: Record<SpanKind, number> = { handler: 0, middleware: 1, custom: 2, cache: 3, ratelimit: 3, http: 4, db: 4, redis: 4 };

export interface OperationSummary {
  kind: SpanKind;
  name: string;
  location: SourceLocation | undefined;
  count: number;
  /** Summed durations. */
  totalMs: number;
  /** Time covered by at least one of its runs. */
  coveredMs: number;
}

/** One traced request, reduced to what a breakdown needs. */
export interface TraceSummary {
  /** Epoch ms at its end. */
  time: number;
  durationMs: number;
  /** Milliseconds per BREAKDOWN_KINDS entry. */
  kinds: number[];
  ops: OperationSummary[];
}

/** Spans whose durationMs is final (open ones closed at the request's end by the caller). */
export function summarise(spans: readonly Span[], durationMs: number, time: number): TraceSummary {
  const kinds = BREAKDOWN_KINDS.map(() => 0);
  const cuts = new Set<number>([0, durationMs]);
  for (const s of spans) {
    cuts.add(clamp(s.startMs, durationMs));
    cuts.add(clamp(s.startMs + s.durationMs, durationMs));
  }
  const points = [...cuts].sort((a, b) => a - b);
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i]!;
    const b = points[i + 1]!;
    if (b <= a) continue;
    const mid = (a + b) / 2;
    let best: Span | undefined;
    for (const s of spans) {
      if (s.startMs > mid || s.startMs + s.durationMs < mid) continue;
      if (best === undefined || RANK[s.kind] >= RANK[best.kind]) best = s;
    }
    kinds[kindIndex(best === undefined || best.kind === 'handler' ? 'own' : best.kind)]! += b - a;
  }
  return { time, durationMs, kinds, ops: operations(spans) };
}

function operations(spans: readonly Span[]): OperationSummary[] {
  const byKey = new Map<string, { op: OperationSummary; runs: Array<[number, number]> }>();
  for (const s of spans) {
    if (s.kind === 'handler') continue;
    const key = `${s.kind}\u0000${s.name}\u0000${s.location ? `${s.location.file}:${s.location.line}` : ''}`;
    let entry = byKey.get(key);
    if (entry === undefined) {
      entry = { op: { kind: s.kind, name: s.name, location: s.location, count: 0, totalMs: 0, coveredMs: 0 }, runs: [] };
      byKey.set(key, entry);
    }
    entry.op.count++;
    entry.op.totalMs += s.durationMs;
    entry.runs.push([s.startMs, s.startMs + s.durationMs]);
  }
  const out: OperationSummary[] = [];
  for (const { op, runs } of byKey.values()) {
    op.coveredMs = union(runs);
    out.push(op);
  }
  return out;
}

/** Total length of a set of intervals, overlaps counted once. */
export function union(runs: Array<[number, number]>): number {
  runs.sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [s, e] of runs) {
    if (e <= end) continue;
    total += e - Math.max(s, end);
    end = e;
  }
  return total;
}

/** A route's breakdown over the summaries of a window. */
export function aggregate(endpoint: string, window: WindowName, summaries: readonly TraceSummary[], requests: number, sampled: boolean): Breakdown {
  const traced = summaries.length;
  let total = 0;
  const kindMs = BREAKDOWN_KINDS.map(() => 0);
  const ops = new Map<string, OperationSummary>();
  for (const t of summaries) {
    total += t.durationMs;
    t.kinds.forEach((ms, i) => (kindMs[i]! += ms));
    for (const op of t.ops) {
      const key = `${op.kind}\u0000${op.name}\u0000${op.location ? `${op.location.file}:${op.location.line}` : ''}`;
      const seen = ops.get(key);
      if (seen === undefined) ops.set(key, { ...op });
      else {
        seen.count += op.count;
        seen.totalMs += op.totalMs;
        seen.coveredMs += op.coveredMs;
      }
    }
  }
  const kinds: BreakdownKind[] = [];
  BREAKDOWN_KINDS.forEach((kind, i) => {
    const ms = kindMs[i]!;
    if (ms > 0) kinds.push({ kind, share: round(ms / total, 4), meanMs: round(ms / traced) });
  });
  kinds.sort((a, b) => b.share - a.share);
  const top: BreakdownOperation[] = [...ops.values()]
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, 10)
    .map((op) => ({
      kind: op.kind,
      name: op.name,
      ...(op.location ? { location: op.location } : {}),
      perRequest: round(op.count / traced, 2),
      meanMs: round(op.totalMs / traced),
      share: round(total > 0 ? op.coveredMs / total : 0, 4),
    }));
  return { endpoint, window, traced, requests: Math.max(requests, traced), sampled, kinds, top };
}

function kindIndex(kind: BreakdownKindName): number {
  return BREAKDOWN_KINDS.indexOf(kind);
}

function clamp(v: number, max: number): number {
  return v < 0 ? 0 : v > max ? max : v;
}
