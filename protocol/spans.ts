/**
 * Why a route is slow, on the wire: the spans of a request (a trace), a
 * route's breakdown by kind and by operation, findings pinned to a line of
 * the user's code, and route profiles. Types only.
 *
 * Times inside a trace are milliseconds relative to the request's start (the
 * HTTP server's `http.server.request.start`), so a trace reads the same
 * whatever the clocks of agent and client.
 */
import type { Severity, SourceLocation, WindowName } from './types';

/** What a span spent its time on. `handler` is the route handler's own code; `middleware` one Express middleware. */
export const SPAN_KINDS = ['middleware', 'handler', 'db', 'redis', 'http', 'cache', 'ratelimit', 'custom'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

export interface Span {
  kind: SpanKind;
  /**
   * What ran: a middleware or handler name, a normalised query (`SELECT … WHERE id = ?`,
   * literals replaced, length-capped), a Redis command name with its key shape
   * (`GET users:?`), `GET host/path` for outbound HTTP (query values redacted),
   * `cache.get users:?`, or the name given to `agent.time()`. Never a value.
   */
  name: string;
  /** Milliseconds from the request's start. */
  startMs: number;
  durationMs: number;
  /** Where in the user's code the span was started (the call site of the query, the middleware's definition). */
  location?: SourceLocation;
  /** Index in `spans` of the span this one nests in; absent at the top level. */
  parent?: number;
  /** The library that produced it: `pg`, `mysql2`, `ioredis`, `undici`, `http`, `routelens`… */
  source?: string;
  /** Set when the operation failed. */
  error?: boolean;
}

export interface Trace {
  id: string;
  /** The correlation id: the request's `X-Request-Id`, or one the agent generated. */
  requestId: string;
  method: string;
  route: string;
  /** The endpoint id (`GET /users/:id`). */
  endpoint: string;
  status: number;
  /** Epoch ms. */
  startedAt: number;
  durationMs: number;
  /** In start order. */
  spans: Span[];
  /** Spans not kept because the per-request cap was reached. */
  droppedSpans: number;
  /** Why it was kept: among the slowest of the last 5 minutes, or a recent ordinary one. */
  kept: 'slowest' | 'recent';
}

/** One kind's part of a route's time, over the traced requests of a window. */
export interface BreakdownKind {
  /** `own` is the handler's own code: what no span of another kind covers. */
  kind: SpanKind | 'own';
  /** Share of the route's total time, 0..1; the shares of one breakdown add up to 1. */
  share: number;
  /** Mean milliseconds per request. */
  meanMs: number;
}

/** One operation (a normalised query, command, URL, middleware) of a route, over the traced requests of a window. */
export interface BreakdownOperation {
  kind: SpanKind;
  name: string;
  location?: SourceLocation;
  /** Mean times it ran per request. */
  perRequest: number;
  /** Mean milliseconds per request it took (summed over its runs). */
  meanMs: number;
  /** Share of the route's total time, 0..1 (overlapping concurrent runs are counted once). */
  share: number;
}

export interface Breakdown {
  endpoint: string;
  window: WindowName;
  /** Requests whose spans were recorded in the window. */
  traced: number;
  /** Requests of the window (all counted, traced or not). */
  requests: number;
  /** True when spans are recorded for a sample of the route's requests, not all: the UI says so. */
  sampled: boolean;
  kinds: BreakdownKind[];
  /** The top operations by total time, largest first (at most 10). */
  top: BreakdownOperation[];
}

export const FINDING_KINDS = ['n-plus-one', 'slow-query', 'sequential-awaits', 'blocking', 'cache-opportunity', 'low-hit-rate'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  /** Stable for the same kind, endpoint and location: a finding seen again updates in place. */
  id: string;
  kind: FindingKind;
  severity: Extract<Severity, 'info' | 'warning'>;
  /** The endpoint id, or `cache:<namespace>` for a cache finding. */
  endpoint: string;
  /** What was seen, with numbers: "SELECT … FROM items WHERE order_id = ? ran 15× in one request (61 % of GET /orders/:id)". */
  message: string;
  /** What to try: "load the items in one query (WHERE order_id = ANY(?)) or batch them". */
  recommendation: string;
  /** Where in the user's code: the query's call site, the blocking span's frame, the handler. */
  location: SourceLocation;
  /** The numbers behind the message (counts, milliseconds, shares), by name. */
  evidence: Record<string, number | string>;
  /** The request ids of example requests (newest first, at most 5). */
  requestIds: string[];
  firstSeen: number;
  lastSeen: number;
  /** Requests it was seen in. */
  occurrences: number;
}

/** A function of a route profile, by its own (self) time. */
export interface ProfileFunction {
  functionName: string;
  location?: SourceLocation;
  /** Self time in the kept samples (ms). */
  selfMs: number;
  /** Share of the kept samples' time, 0..1. */
  share: number;
}

export interface ProfileSummary {
  endpoint: string;
  seconds: number;
  /** Absolute path of the written `.cpuprofile` (kept samples only). */
  file: string;
  /** Samples taken in the whole process, and those whose stacks pass through the route's handler or middleware. */
  samples: number;
  kept: number;
  /** Requests of the route that completed while profiling. */
  requests: number;
  /** Top self-time functions, largest first (at most 20). */
  top: ProfileFunction[];
}
