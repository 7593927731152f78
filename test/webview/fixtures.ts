/** Snapshot and delta builders for the webview tests (plain data, shaped like the agent's). */
import type { Alert, CacheStats, EndpointStats, LatencySummary, RateLimitStats, SlowRequest, Snapshot, SystemStats } from '../../protocol/types';

export function summary(seed: number, scale = 1): LatencySummary {
  // Distinct orderings per field: each figure is a different function of the seed.
  const count = Math.round((((seed * 37) % 101) + 1) * scale);
  return {
    count,
    errors: (seed * 7) % 13,
    aborted: seed % 3,
    min: 0.5,
    avg: 5 + ((seed * 11) % 97),
    max: 500 + ((seed * 29) % 89) * 10,
    p50: 3 + ((seed * 13) % 83),
    p95: 50 + ((seed * 17) % 79) * 5,
    p99: 100 + ((seed * 19) % 71) * 7,
  };
}

export function endpoint(i: number, route = `/api/items${i}/:id`, method = 'GET', tick = 0): EndpointStats {
  const all = summary(i + tick, 10);
  return {
    id: `${method} ${route}`,
    method,
    route,
    kind: 'route',
    ...all,
    statusCodes: { '2xx': all.count - all.errors, '5xx': all.errors },
    windows: { '1m': summary(i + tick, 1), '5m': summary(i + 5 + tick, 3), all },
    rate: ((i * 3) % 17) / 2,
    location: { file: `/srv/app/routes/items${i}.js`, line: 10 + i, column: 5 },
    lastSeen: 1_700_000_000_000 + tick * 250,
    histogram: { bounds: [5, 10, 25, 50, 100, 250, 500, 1000], counts: [4, 9, 20, 12, 6, 3, 1, 0] },
  };
}

export function system(time: number, over: Partial<SystemStats> = {}): SystemStats {
  return {
    pid: 4242,
    nodeVersion: 'v22.11.0',
    uptime: 3725,
    rss: 120 * 1024 * 1024,
    heapUsed: 48 * 1024 * 1024,
    heapTotal: 64 * 1024 * 1024,
    heapLimit: 4096 * 1024 * 1024,
    external: 3 * 1024 * 1024,
    cpuPercent: 12.5,
    eventLoop: { delayP50: 10.1, delayP99: 14.2, delayMax: 31, utilization: 0.12 },
    gc: { count: 17, pauseTotal: 45.3, pauseMax: 8.1 },
    requestsPerSecond: 42.5,
    errorRate: 0.013,
    time,
    ...over,
  };
}

export function cache(over: Partial<CacheStats> = {}): CacheStats {
  const hc = (hits: number, misses: number) => ({ hits, misses, hitRate: hits / (hits + misses) });
  return {
    enabled: true,
    redis: 'ready',
    l1: { ...hc(800, 200), entries: 340, bytes: 2_100_000, maxEntries: 10_000, maxBytes: 50_000_000 },
    l2: { ...hc(150, 50), errors: 2 },
    overall: hc(950, 50),
    sets: 400,
    deletes: 12,
    evictions: 3,
    expirations: 40,
    invalidations: 5,
    loads: { count: 250, errors: 1, avg: 12.5, max: 80 },
    window: hc(90, 10),
    namespaces: [{ namespace: 'users', entries: 200, ...hc(500, 100) }, { namespace: 'products', entries: 140, ...hc(450, 100) }],
    routes: [{ route: 'GET /users/:id', ...hc(500, 100) }],
    hotKeys: [{ key: 'users:1', hits: 120 }, { key: 'products:42', hits: 80 }],
    warmers: ['popular-products'],
    ...over,
  };
}

export function limiter(over: Partial<RateLimitStats> = {}): RateLimitStats {
  return {
    name: 'api',
    algorithm: 'sliding-window',
    windowMs: 60_000,
    max: 100,
    store: 'redis',
    onStoreError: 'fail-open',
    allowed: 5000,
    limited: 120,
    storeErrors: 1,
    window: { allowed: 300, limited: 12 },
    routes: [{ route: 'POST /login', allowed: 200, limited: 12 }],
    topKeys: [{ key: '203.0.113.9', limited: 9 }],
    ...over,
  };
}

export function alert(over: Partial<Alert> = {}): Alert {
  return {
    id: 'a1',
    rule: 'route-p95',
    target: 'GET /api/items1/:id',
    severity: 'warning',
    state: 'firing',
    message: 'p95 of GET /api/items1/:id is 640 ms (threshold 500 ms)',
    value: 640,
    threshold: 500,
    firedAt: 1_700_000_000_000,
    ...over,
  };
}

export function slowRequest(i: number, over: Partial<SlowRequest> = {}): SlowRequest {
  return {
    requestId: `r${i}`,
    method: 'GET',
    route: '/api/items1/:id',
    path: `/api/items1/${i}?q=*`,
    status: 200,
    duration: 800 + i,
    time: 1_700_000_000_000 + i * 1000,
    severity: i % 3 === 0 ? 'critical' : i % 3 === 1 ? 'warning' : 'info',
    ...over,
  };
}

export const T0 = 1_700_000_000_000;

export function snapshot(endpoints: EndpointStats[], over: Partial<Snapshot> = {}): Snapshot {
  return {
    protocolVersion: 1,
    agent: { name: 'demo-shop', pid: 4242, version: '0.1.0', protocolVersion: 1, cwd: '/srv/app', startedAt: T0 - 3_725_000, features: ['cache', 'redis', 'rateLimit'] },
    time: T0,
    endpoints,
    system: system(T0),
    alerts: [alert()],
    alertHistory: [alert({ id: 'a0', state: 'resolved', resolvedAt: T0 - 60_000, resolvedBy: 'auto', severity: 'critical', rule: 'error-rate', target: 'process', message: 'error rate 12% (threshold 5%)' })],
    thresholds: {
      p95Ms: 500,
      errorRate: 0.05,
      heapPercent: 0.85,
      eventLoopDelayMs: 100,
      cacheHitRate: 0.5,
      rateLimitedShare: 0.2,
      anomalyFactor: 3,
      avgMs: 1000,
      slowPerMinute: 10,
      slowMs: { info: 500, warning: 1000, critical: 3000 },
      slowQueryMs: 1000, cpuPercent: 90, errorSpikeFactor: 3, memoryGrowthFactor: 1.5,
    },
    health: { score: 82, status: 'degraded', reasons: ['GET /api/items1/:id p95 640 ms above 500 ms'] },
    // Newest first, as the agent sends them.
    slowRequests: [4, 3, 2, 1, 0].map((i) => slowRequest(i)),
    cache: cache(),
    rateLimits: [limiter()],
    droppedEndpoints: 0,
    ...over,
  };
}

export function endpoints(n: number): EndpointStats[] {
  return Array.from({ length: n }, (_, i) => endpoint(i + 1));
}
