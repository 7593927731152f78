/**
 * What the agent's spans tell the tools (docs/spans.md, docs/findings.md):
 * findings, a route's breakdown and its slowest kept traces, each in a
 * compact, bounded form. An agent that records no spans (spans off, or an
 * older agent) answers ERR_UNAVAILABLE (or does not know the command): that
 * becomes a plain "not recorded" rather than an error.
 */
import type { Breakdown, Finding, SourceLocation, Trace } from '../../protocol';
import type { AgentSource } from '../core/source';
import { iso, ms, percent, str } from './data';

/** Said for each part an agent cannot give. */
export const NOT_RECORDED = 'not recorded by this agent (spans are off: spans: false or ROUTELENS_SPANS=0, or the agent is older than spans)';

/** How much of a route's spans route_details shows. */
const TOP_OPERATIONS = 5;
const SLOWEST_TRACES = 3;
const SPANS_PER_TRACE = 5;
const FINDINGS_PER_ROUTE = 5;

/** True for the answers of an agent that lacks the feature. */
export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_UNAVAILABLE' || code === 'ERR_UNKNOWN_COMMAND';
}

/** The command's answer, or undefined when the agent lacks the feature; other failures pass through. */
export async function orUnavailable<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isUnavailable(err)) return undefined;
    throw err;
  }
}

export function where(l: SourceLocation | undefined): string | undefined {
  return l ? str(`${l.file}:${l.line}:${l.column}`, 300) : undefined;
}

/** Warnings first, then the most often seen, then the newest. */
export function rankFindings(list: readonly Finding[]): Finding[] {
  const rank = (f: Finding) => (f.severity === 'warning' ? 0 : 1);
  return [...list].sort((a, b) => rank(a) - rank(b) || b.occurrences - a.occurrences || b.lastSeen - a.lastSeen);
}

export function findingRow(f: Finding) {
  return {
    kind: f.kind,
    severity: f.severity,
    route: str(f.endpoint),
    message: str(f.message, 400),
    recommendation: str(f.recommendation, 400),
    location: where(f.location),
    evidence: Object.fromEntries(
      Object.entries(f.evidence)
        .slice(0, 12)
        .map(([k, v]) => [str(k, 60), typeof v === 'number' ? Math.round(v * 100) / 100 : str(v, 200)]),
    ),
    requestIds: f.requestIds.slice(0, 5).map((id) => str(id, 128)),
    occurrences: f.occurrences,
    firstSeen: iso(f.firstSeen),
    lastSeen: iso(f.lastSeen),
  };
}

/** One endpoint's findings, most important first. */
export function findingsOf(list: readonly Finding[], endpoint: string): Finding[] {
  return rankFindings(list.filter((f) => f.endpoint === endpoint)).slice(0, FINDINGS_PER_ROUTE);
}

export function breakdownRow(b: Breakdown) {
  return {
    window: b.window,
    tracedRequests: b.traced,
    requests: b.requests,
    sampled: b.sampled,
    note: b.sampled ? `from the ${b.traced} traced request(s) of ${b.requests}: spans are recorded for a sample of the requests` : 'every request of the window was traced',
    kinds: [...b.kinds].sort((x, y) => y.share - x.share).map((k) => ({ kind: k.kind, sharePercent: percent(k.share), meanMs: ms(k.meanMs) })),
    topOperations: b.top.slice(0, TOP_OPERATIONS).map((o) => ({ kind: o.kind, operation: str(o.name, 200), location: where(o.location), perRequest: Math.round(o.perRequest * 100) / 100, meanMs: ms(o.meanMs), sharePercent: percent(o.share) })),
  };
}

export function traceRow(t: Trace) {
  const top = [...t.spans].sort((a, b) => b.durationMs - a.durationMs).slice(0, SPANS_PER_TRACE);
  return {
    requestId: str(t.requestId, 128),
    at: iso(t.startedAt),
    status: t.status,
    durationMs: ms(t.durationMs),
    spans: t.spans.length + t.droppedSpans,
    topSpans: top.map((s) => ({ kind: s.kind, name: str(s.name, 160), startMs: ms(s.startMs), durationMs: ms(s.durationMs), location: where(s.location), ...(s.error ? { error: true } : {}) })),
  };
}

/** The breakdown (5m window, else all), the route's findings and its slowest kept traces; "not recorded" when the agent has no spans. */
export async function spansOf(source: AgentSource, endpoint: string, allFindings: readonly Finding[] | undefined) {
  let breakdown = await orUnavailable(source.command('endpoint.breakdown', { endpoint, window: '5m' }));
  if (breakdown && breakdown.traced === 0) breakdown = await source.command('endpoint.breakdown', { endpoint, window: 'all' });
  const traces = breakdown ? ((await orUnavailable(source.command('traces.list', { endpoint, limit: 20 })))?.traces ?? []) : undefined;
  return {
    breakdown: breakdown ? breakdownRow(breakdown) : NOT_RECORDED,
    // A route's findings come from its traces: none without spans, whatever the engine says of the cache.
    findings: breakdown && allFindings ? findingsOf(allFindings, endpoint).map(findingRow) : NOT_RECORDED,
    slowestTraces: traces ? [...traces].sort((a, b) => b.durationMs - a.durationMs).slice(0, SLOWEST_TRACES).map(traceRow) : NOT_RECORDED,
  };
}
