/**
 * Data types carried on the wire between the agent and its clients (the VS Code
 * extension, scripts, CI). Imports nothing from vscode, express, ws or the DOM.
 *
 * Units: durations in milliseconds (floating point), sizes in bytes, times as
 * epoch milliseconds, rates as fractions 0..1 unless a name says otherwise.
 */
import type { Finding, SpanKind } from './spans';

/** Bumped on any incompatible change to a message or a type below. */
export const PROTOCOL_VERSION = 1;

/** Live windows every endpoint is measured over, besides its lifetime ("all"). */
export const WINDOWS = ['1m', '5m', 'all'] as const;
export type WindowName = (typeof WINDOWS)[number];

/** A place in the user's source. `file` is absolute; `line` and `column` are 1-based. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface LatencySummary {
  count: number;
  errors: number;
  /** Requests the client aborted before the response finished (not counted in `errors`). */
  aborted: number;
  min: number;
  avg: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
}

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

/** The kind of an endpoint: a real route, the per-method unmatched bucket, the overflow bucket, or a custom timing. */
export type EndpointKind = 'route' | 'unmatched' | 'overflow' | 'custom';

export interface EndpointStats extends LatencySummary {
  /** `${method} ${route}`; stable across restarts, used as the key everywhere. */
  id: string;
  /** Upper-case HTTP method, `_OTHER` for unknown methods, `ALL` for app.all, `CUSTOM` for custom timings. */
  method: string;
  /** Route template (`/users/:id`), `(unmatched)`, `(overflow)`, or a custom timing's name. */
  route: string;
  kind: EndpointKind;
  statusCodes: Partial<Record<StatusClass, number>>;
  /** The same figures over the live windows. `all` equals the top-level fields. */
  windows: Record<WindowName, LatencySummary>;
  /** Requests per second over the last minute. */
  rate: number;
  /** Where the route is registered (`app.get(...)` call site). */
  location?: SourceLocation;
  /** Where the handler function is defined, when it is not at `location`. */
  handlerLocation?: SourceLocation;
  /** Epoch ms of the last completed request, 0 if none yet. */
  lastSeen: number;
  /** Latency distribution over the 5-minute window: bucket upper bounds (ms) and counts. */
  histogram?: { bounds: number[]; counts: number[] };
}

export interface SystemStats {
  pid: number;
  nodeVersion: string;
  uptime: number; // seconds
  rss: number;
  heapUsed: number;
  heapTotal: number;
  heapLimit: number;
  external: number;
  /** Process CPU use, percent of one core (can exceed 100 on several cores). */
  cpuPercent: number;
  eventLoop: { delayP50: number; delayP99: number; delayMax: number; utilization: number };
  gc: { count: number; pauseTotal: number; pauseMax: number };
  requestsPerSecond: number;
  /** Share of requests in the last minute that errored. */
  errorRate: number;
  time: number;
}

export type Severity = 'info' | 'warning' | 'critical';

export type AlertRule =
  | 'route-p95'
  | 'error-rate'
  | 'heap'
  | 'event-loop-delay'
  | 'cache-hit-rate'
  | 'latency-anomaly'
  | 'rate-limited'
  | 'redis'
  | 'route-avg'
  | 'slow-requests'
  | 'slow-query'
  | 'cpu'
  | 'error-rate-spike'
  | 'memory-growth';

export interface Alert {
  id: string;
  rule: AlertRule;
  /** What the alert is about: an endpoint id, `process`, a cache namespace, a limiter name. */
  target: string;
  severity: Severity;
  state: 'firing' | 'resolved';
  message: string;
  value: number;
  threshold: number;
  firedAt: number;
  resolvedAt?: number;
  /** `auto` when the condition cleared, `manual` when resolved by a command. */
  resolvedBy?: 'auto' | 'manual';
  /** Where the target route's handler is, so an editor can put a diagnostic there. */
  location?: SourceLocation;
}

export interface Thresholds {
  /** Route p95 latency that fires a warning (ms); critical at twice this. */
  p95Ms: number;
  /** Route average latency over the last minute that fires a warning (ms); critical at twice this. */
  avgMs: number;
  /** Slow requests (at or over `slowMs.info`) in the last minute, process-wide, that fire a warning; critical at twice this. */
  slowPerMinute: number;
  /** Error rate (0..1) that fires a warning; critical at 5× this for one route, 2× across the process. */
  errorRate: number;
  /** Heap used as a share of the heap limit (0..1). */
  heapPercent: number;
  /** Event-loop delay p99 (ms). */
  eventLoopDelayMs: number;
  /** Cache hit rate below which a warning fires (0..1). */
  cacheHitRate: number;
  /** Share of a route's requests that were rate limited (0..1). */
  rateLimitedShare: number;
  /** A route's p95 this many times its own baseline is an anomaly. */
  anomalyFactor: number;
  /** Slow-request severities (ms). */
  slowMs: { info: number; warning: number; critical: number };
  /** A database, Redis, outbound HTTP or custom span this long or longer is a slow query (ms): a finding, a slow-log entry and an alert. */
  slowQueryMs: number;
  /** Process CPU (percent of one core) that fires a warning when sustained; critical at 1.5× this. */
  cpuPercent: number;
  /** The process's error rate this many times its own baseline is a spike. */
  errorSpikeFactor: number;
  /** Heap used this many times the process's own baseline is memory growth. */
  memoryGrowthFactor: number;
}

export interface HealthReport {
  /** 0..100, 100 = healthy. */
  score: number;
  status: 'healthy' | 'degraded' | 'unhealthy';
  reasons: string[];
}

export interface SlowRequest {
  requestId: string;
  method: string;
  route: string;
  /** Path with query values redacted (`/search?q=*`). */
  path: string;
  status: number;
  duration: number;
  time: number;
  severity: Severity;
  /** Set when the entry is a slow query of the request (a span over `slowQueryMs`), not the request itself; `duration` is then the span's. */
  span?: { kind: SpanKind; name: string; location?: SourceLocation };
}

export interface AgentInfo {
  name: string;
  pid: number;
  version: string;
  protocolVersion: number;
  cwd: string;
  startedAt: number;
  /** Features compiled in and enabled, e.g. `cache`, `redis`, `rateLimit`. */
  features: string[];
  /** TCP ports the app's own servers listen on (not the agent's); absent when none. */
  appPorts?: number[];
}

// ---------------------------------------------------------------- cache

export type CacheTier = 'l1' | 'l2';

export type CacheEventKind =
  | 'hit'
  | 'miss'
  | 'set'
  | 'delete'
  | 'eviction'
  | 'expiry'
  | 'invalidation'
  | 'load'
  | 'error'
  | 'connection';

export interface CacheEvent {
  kind: CacheEventKind;
  time: number;
  key?: string;
  namespace?: string;
  tier?: CacheTier;
  /** Endpoint id whose request made the call, when there was one. */
  route?: string;
  /** Loader duration for `load`. */
  duration?: number;
  /** For `invalidation`: what was invalidated and by whom. */
  invalidation?: { by: 'key' | 'pattern' | 'tag' | 'namespace' | 'clear'; target: string; source: 'app' | 'editor' | 'http' | 'peer'; removed?: number };
  /** For `error`. */
  message?: string;
  /** For `connection`. */
  state?: RedisState;
}

export type RedisState = 'none' | 'connecting' | 'ready' | 'down';

export interface HitCounts {
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0 when there was no read. */
  hitRate: number;
}

export interface CacheStats {
  enabled: boolean;
  redis: RedisState;
  l1: HitCounts & { entries: number; bytes: number; maxEntries: number; maxBytes: number };
  l2: HitCounts & { errors: number };
  overall: HitCounts;
  sets: number;
  deletes: number;
  evictions: number;
  expirations: number;
  invalidations: number;
  loads: { count: number; errors: number; avg: number; max: number };
  /** Over the 1-minute window. */
  window: HitCounts;
  namespaces: Array<HitCounts & { namespace: string; entries: number }>;
  routes: Array<HitCounts & { route: string }>;
  hotKeys: Array<{ key: string; hits: number }>;
  warmers: string[];
  /** Each warmer's schedule and last run (absent from agents older than scheduled warming). */
  warming?: CacheWarmerStats[];
  /** Predictive preloading; absent when no read ever opted in. */
  preloads?: CachePreloadStats;
  /** L1 entries per priority. */
  priorities?: { high: number; normal: number; low: number };
  /** Keys copied into L1 because they were read from L2 often, though their namespace keeps values out of L1. */
  promotions?: number;
}

export interface CacheWarmerStats {
  name: string;
  /** Runs every `every` ms; absent: at start and on demand only. */
  every?: number;
  running: boolean;
  runs: number;
  /** When the next scheduled run is due (epoch ms). */
  nextRun?: number;
  lastRun?: {
    trigger: 'start' | 'schedule' | 'demand';
    /** Start (epoch ms). */
    at: number;
    duration: number;
    loaded: number;
    /** Why the run failed or stopped early (a thrown error, the time limit). */
    error?: string;
  };
}

export interface CachePreloadStats {
  /** Background loads started from a prediction. */
  started: number;
  /** Preloaded keys read before they expired. */
  hits: number;
  /** Preloaded keys that expired, were evicted or were replaced before any read. */
  wasted: number;
  /** hits / (hits + wasted); 0 before any outcome. */
  hitRate: number;
  inFlight: number;
  /** Predictions not acted on (in-flight cap, share of loader calls, no loader known). */
  skipped: number;
  /** Keys the access model holds (capped). */
  modelKeys: number;
}

export interface CacheKeyInfo {
  key: string;
  namespace: string;
  tier: CacheTier | 'both';
  /** Remaining time to live (ms), absent when the entry never expires. */
  ttl?: number;
  size: number;
  tags?: string[];
}

// ---------------------------------------------------------------- rate limits

export interface RateLimitStats {
  name: string;
  algorithm: 'fixed-window' | 'sliding-window' | 'token-bucket';
  windowMs: number;
  max: number;
  store: 'memory' | 'redis';
  /** What happens when the store fails. */
  onStoreError: 'fail-open' | 'memory';
  allowed: number;
  limited: number;
  storeErrors: number;
  window: { allowed: number; limited: number };
  routes: Array<{ route: string; allowed: number; limited: number }>;
  topKeys: Array<{ key: string; limited: number }>;
}

// ---------------------------------------------------------------- snapshot and delta

export interface Snapshot {
  protocolVersion: number;
  agent: AgentInfo;
  time: number;
  endpoints: EndpointStats[];
  system: SystemStats;
  /** Firing alerts. */
  alerts: Alert[];
  /** The most recent resolved alerts, newest first (bounded). */
  alertHistory: Alert[];
  thresholds: Thresholds;
  health: HealthReport;
  slowRequests: SlowRequest[];
  cache?: CacheStats;
  rateLimits: RateLimitStats[];
  /** Requests folded into the overflow bucket because the endpoint cap was reached. */
  droppedEndpoints: number;
  /** True while measuring is paused (`agent.pause()`, the `measuring.set` command); absent or false: measuring. */
  paused?: boolean;
  /** What the agent found about why routes are slow (protocol/spans.ts), newest first; absent when it records no spans. */
  findings?: Finding[];
}

/** What changed since the previous delta. Absent fields did not change. */
export interface Delta {
  time: number;
  /** Endpoints whose figures changed, in full. */
  endpoints?: EndpointStats[];
  /** Endpoint ids removed (by a reset of one endpoint that has no registration). */
  removedEndpoints?: string[];
  system?: SystemStats;
  alerts?: Alert[];
  alertHistory?: Alert[];
  thresholds?: Thresholds;
  health?: HealthReport;
  /** Slow requests added since the previous delta. */
  slowRequests?: SlowRequest[];
  cache?: CacheStats;
  cacheEvents?: CacheEvent[];
  /** Cache events that were dropped because the batch was full. */
  droppedCacheEvents?: number;
  rateLimits?: RateLimitStats[];
  droppedEndpoints?: number;
  /** Measuring was paused (`true`) or resumed (`false`). */
  paused?: boolean;
  /** The findings, in full, when any changed. */
  findings?: Finding[];
}

/** Contents of a discovery file `agent-<pid>.json`. */
export interface DiscoveryRecord {
  pid: number;
  port: number;
  host: string;
  token: string;
  cwd: string;
  name: string;
  version: string;
  protocolVersion: number;
  startedAt: number;
}
