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
import type { CommandName } from '../protocol';

/** Milliseconds since the epoch; injectable so time-based logic is tested without sleeping. */
export type Clock = () => number;
export const systemClock: Clock = () => Date.now();

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
  /** Milliseconds, from the middleware's first sight of the request to the tick after finish, or to the connection's close. */
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
  /** Endpoints changed since the previous call (for deltas). */
  takeChangedEndpoints(): EndpointStats[];
  system(): SystemStats;
  slowRequests(): SlowRequest[];
  /** HTTP requests at or over `slowMs.info` (when recorded) in the 1m window, process-wide. */
  slowLastMinute(): number;
  /** Slow requests recorded since the previous call. */
  takeNewSlowRequests(): SlowRequest[];
  droppedEndpoints(): number;
  /** Reset all figures (registrations stay), or one endpoint's. Returns how many endpoints were reset. */
  reset(endpointId?: string): number;
  setSlowThresholds(slowMs: Thresholds['slowMs']): void;
  close(): void;
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
  /** Changes since the previous call, or undefined when nothing changed. Called once per batch tick for all clients. */
  takeDelta(): Delta | undefined;
  /**
   * Runs a validated command. Throws ProtocolError for expected failures
   * (ERR_NOT_FOUND, ERR_UNAVAILABLE, ERR_PATTERN_REJECTED, …).
   */
  execute(command: CommandName, args: unknown, source: CommandSource): Promise<unknown>;
}

export type { WindowName };
