/**
 * Internal contracts between the agent's parts. Public types live in
 * agent/index.ts and protocol/; these are for the parts themselves:
 *
 *   express/ ──RequestRecorder──▶ metrics/ ──▶ alerts/
 *   cache/, ratelimit/ ──────────────────────▶ alerts/ (via AlertInputs)
 *   agent.ts composes them into an AgentHost ──▶ server/ (HTTP + WebSocket)
 */
import type {
  AgentInfo,
  Alert,
  CacheStats,
  Delta,
  EndpointStats,
  HealthReport,
  RateLimitStats,
  SlowRequest,
  Snapshot,
  SourceLocation,
  SystemStats,
  Thresholds,
  WindowName,
} from '../protocol';
import type { CommandArgs, CommandName } from '../protocol';

/** Milliseconds since the epoch; injectable so time-based logic is tested without sleeping. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

/** The same place in the code (file, line and column); two absent locations are the same. */
export function sameLocation(a: SourceLocation | undefined, b: SourceLocation | undefined): boolean {
  if (!a || !b) return a === b;
  return a.file === b.file && a.line === b.line && a.column === b.column;
}

// ---------------------------------------------------------------- express → metrics

/** A route known from its registration, before any request. */
export interface RouteDefinition {
  /** Upper-case method, or `ALL` for app.all / router.all. */
  method: string;
  /** Full template including every mount prefix: `/api/orgs/:org/users/:id`. */
  route: string;
  location?: SourceLocation;
  handlerLocation?: SourceLocation;
}

/**
 * One finished (or aborted) request. Built on the request path, so keep it flat. Valid only during
 * `record()`: `url`, `requestId` and `start` may be read from the request on demand.
 */
export interface RequestSample {
  /** Upper-case method as the client sent it; metrics maps unknown ones to `_OTHER`. */
  method: string;
  /** The matched template, or undefined when no route matched. */
  route: string | undefined;
  /** 0 when aborted before headers were sent. */
  status: number;
  /** Milliseconds, from the request's announcement by its server (or the middleware's first sight) to the response's finish, or to the connection's close. */
  duration: number;
  aborted: boolean;
  /** A handler threw or called next(err). */
  threw: boolean;
  /** Raw `req.originalUrl`; only read when the request is slow (redacted then). */
  url: string;
  requestId: string;
  /** Epoch ms when the request arrived. */
  start: number;
}

/** Measuring on or off at run time: the measuring middleware reads `paused` first on every request. */
export interface MeasuringSwitch {
  paused: boolean;
}

/** What the Express integration needs from the rest of the agent. */
export interface RequestRecorder {
  registerRoute(def: RouteDefinition): void;
  /** Called once per request, on the request path: must be O(1) and never throw. */
  record(sample: RequestSample): void;
}

// ---------------------------------------------------------------- metrics

export interface Metrics extends RequestRecorder {
  /** A custom timing (agent.time / agent.record). */
  recordCustom(name: string, duration: number, error: boolean): void;
  endpoints(): EndpointStats[];
  /** What the alert rules read of every endpoint: far cheaper than endpoints() (nothing copied). */
  alertEndpoints(): AlertEndpoint[];
  endpoint(id: string): EndpointStats | undefined;
  system(): SystemStats;
  /** Slow requests kept, newest first. */
  slowRequests(): SlowRequest[];
  /** HTTP requests at or over `slowMs.info` (when recorded) in the 1m window, process-wide. */
  slowLastMinute(): number;
  /**
   * Slow requests written after `since` (0, or a previous answer's `position`), newest first,
   * without consuming them; `missed` counts those that already left the ring.
   */
  slowSince(since: number): { slowRequests: SlowRequest[]; position: number; missed: number };
  droppedEndpoints(): number;
  /** Where the change feed stands now: a reader starting here sees only later changes. */
  cursor(): MetricsCursor;
  /** What changed after `since` (a cursor from `cursor()` or a previous read), without consuming it: any number of readers. */
  changesSince(since: MetricsCursor): MetricsChanges;
  /** Reset all figures (registrations stay), or one endpoint's. Returns how many endpoints were reset. */
  reset(endpointId?: string): number;
  setSlowThresholds(slowMs: Thresholds['slowMs']): void;
  close(): void;
}

/** A reader's position in the metrics' change feed. */
export interface MetricsCursor {
  /** Endpoint revision at the read. */
  readonly revision: number;
  /** Slow requests ever written, at the read. */
  readonly slow: number;
  /** Process samples taken, at the read. */
  readonly system: number;
}

export interface MetricsChanges {
  /** Endpoints added or changed (figures, windows that slid, locations). */
  endpoints: EndpointStats[];
  /** Endpoints a reset removed. */
  removedEndpoints: string[];
  /** New slow requests, newest first. */
  slowRequests: SlowRequest[];
  /** Present when a process sample was taken since `since`. */
  system?: SystemStats;
  /** Where the next read starts. */
  cursor: MetricsCursor;
}

// ---------------------------------------------------------------- alerts

/** What the alert rules read of an endpoint (an EndpointStats is one): read only, the objects may be shared. */
export interface AlertEndpoint {
  readonly id: string;
  readonly kind: EndpointStats['kind'];
  readonly location?: EndpointStats['location'];
  readonly handlerLocation?: EndpointStats['handlerLocation'];
  readonly windows: { readonly '1m': Readonly<Pick<EndpointStats['windows']['1m'], 'count' | 'errors' | 'p95' | 'avg'>> };
}

export interface AlertInputs {
  endpoints: AlertEndpoint[];
  system: SystemStats;
  cache?: CacheStats;
  rateLimits: RateLimitStats[];
  /** Metrics.slowLastMinute(); the slow-requests rule is skipped without it. */
  slowLastMinute?: number;
  /** Per route, its slow queries of the last minute (the findings); the slow-query rule is skipped without it. */
  slowQueries?: SlowQuerySummary[];
}

/** A route's slow queries in the last minute: the slowest one's name and call site, how many. */
export interface SlowQuerySummary {
  endpoint: string;
  name: string;
  location?: SourceLocation;
  maxMs: number;
  count: number;
}

export interface Alerts {
  /** Re-evaluates every rule (called on a timer, off the request path). */
  evaluate(inputs: AlertInputs): void;
  active(): Alert[];
  history(): Alert[];
  /** Manual resolve; throws ProtocolError(ERR_NOT_FOUND) for an unknown or resolved id. */
  resolve(id: string): Alert;
  thresholds(): Thresholds;
  setThresholds(patch: Partial<Omit<Thresholds, 'slowMs'>> & { slowMs?: Partial<Thresholds['slowMs']> }): Thresholds;
  health(): HealthReport;
  /** True when alerts, history or health changed since the previous call. */
  takeChanged(): boolean;
  /** Grows when alerts, history or health change; any number of readers compare it with the value they last saw. */
  revision(): number;
  /** Listeners for firing alerts (the agent's `alert` event). */
  onFire(listener: (alert: Alert) => void): void;
}

// ---------------------------------------------------------------- agent → server

/** Who issued a command; shown in cache invalidation events. */
export type CommandSource = 'editor' | 'http' | 'app';

/** Everything the local server needs from the agent. */
export interface AgentHost {
  info(): AgentInfo;
  snapshot(): Snapshot;
  /** Every endpoint's count and latency sketch (base64 protobuf) since the start or the last reset. */
  sketches(): Array<{ id: string; count: number; sketch: string }>;
  /**
   * Opens a reader of the change feed at the current position. Each call of
   * the reader returns what changed since its previous call (the first: since
   * it was opened), or undefined when nothing did. Readers are independent.
   */
  openFeed(): () => Delta | undefined;
  /**
   * Resolves once every request the app finished before the call is in the figures, so that a
   * client that saw its response and then asks sees that request. Absent when the figures are
   * kept in the app's own thread (nothing to wait for there). Never rejects.
   */
  settle?(): Promise<void>;
  /**
   * Runs a validated command. Throws ProtocolError for expected failures
   * (ERR_NOT_FOUND, ERR_UNAVAILABLE, ERR_PATTERN_REJECTED, …).
   */
  execute<C extends CommandName>(command: C, args: CommandArgs<C>, source: CommandSource): Promise<unknown>;
}

export type { WindowName };
