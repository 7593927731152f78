/**
 * The agent's HTTP surface, on the same port as the WebSocket. Every request
 * carries `Authorization: Bearer <token>`; see docs/protocol.md.
 */
export const HTTP_PATHS = {
  stream: '/v1/stream',
  snapshot: '/v1/snapshot',
  endpoints: '/v1/endpoints',
  system: '/v1/system',
  alerts: '/v1/alerts',
  thresholds: '/v1/thresholds',
  reset: '/v1/reset',
  cache: '/v1/cache',
  cacheKeys: '/v1/cache/keys',
  cacheInvalidate: '/v1/cache/invalidate',
  /** POST `{namespace, dryRun?}` → cache.clearNamespace. */
  cacheClear: '/v1/cache/clear',
  rateLimits: '/v1/ratelimits',
  /** POST (empty body) → measuring.set `{paused: true}` / `{paused: false}`. */
  pause: '/v1/pause',
  resume: '/v1/resume',
  /** GET `?endpoint=&from=&to=&resolution=` → history.get. */
  history: '/v1/history',
  /** GET → baseline.compare; POST `{file?}` → baseline.set. */
  baseline: '/v1/baseline',
  metrics: '/metrics',
  /** GET → findings.list `{ findings }`. */
  findings: '/v1/findings',
  /** POST `{endpoint, seconds?}` → profile.start: the route profile's summary and where its `.cpuprofile` was written. */
  profile: '/v1/profile',
  /** GET: every endpoint's count and latency sketch since the start or the last reset (protocol/sketch.ts). */
  sketches: '/v1/sketches',
  /** POST `{command, args}`: any command, as on the WebSocket. */
  command: '/v1/command',
  /** GET `?endpoint={id}&limit=N` → traces.list: `{ traces }`. */
  traces: '/v1/traces',
} as const;

export const ENDPOINT_SORTS = ['slowest', 'most-requested'] as const;
export type EndpointSort = (typeof ENDPOINT_SORTS)[number];

/** Environment variables the agent reads. */
export const ENV = {
  port: 'ROUTELENS_PORT',
  host: 'ROUTELENS_HOST',
  token: 'ROUTELENS_TOKEN',
  discoveryDir: 'ROUTELENS_DISCOVERY_DIR',
  disabled: 'ROUTELENS_DISABLED',
  name: 'ROUTELENS_NAME',
  slowLogDir: 'ROUTELENS_SLOW_LOG_DIR',
  redisUrl: 'ROUTELENS_REDIS_URL',
  debug: 'ROUTELENS_DEBUG',
  spans: 'ROUTELENS_SPANS',
} as const;
