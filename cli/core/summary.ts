/**
 * The executive summary of one agent's snapshot: status, health score and its
 * reasons, key metrics, firing alerts and recommendations derived from the
 * figures, and the agent's top findings. Shared by `routelens report`, the `health_summary` tool (MCP and
 * editor) and the extension's Export Report. Pure: no vscode, no MCP SDK.
 *
 * Units are in the field names: `Ms` milliseconds, `Percent` 0..100,
 * `PerSecond`, `Seconds`; bare counts are requests.
 */
import type { Alert, AlertRule, EndpointStats, Finding, HealthReport, RedisState, Snapshot } from '../../protocol';
import { assertNever } from '../../protocol';
import { iso, ms, percent, share, str } from '../tools/data';
import { rankFindings } from '../tools/spans';

export type Priority = 'critical' | 'warning' | 'info';

export interface Recommendation {
  priority: Priority;
  /** What to do and why, with the figure that says so. */
  text: string;
  /** The endpoint it is about, when there is one. */
  route?: string;
  /** Where that route is registered: `file:line:column`. */
  location?: string;
}

export interface SummaryAlert {
  severity: Alert['severity'];
  rule: AlertRule;
  target: string;
  message: string;
  value: number;
  threshold: number;
  /** Unit of `value` and `threshold`. */
  unit: 'ms' | 'percent' | 'count' | 'state';
  firedAt: string | null;
}

export interface SummaryRoute {
  route: string;
  requests: number;
  p95Ms: number;
  errorRatePercent: number;
  location?: string;
}

export interface ExecutiveSummary {
  routelensSummary: 1;
  generatedAt: string;
  agent: { name: string; pid: number; version: string; nodeVersion: string; uptimeSeconds: number };
  status: HealthReport['status'];
  /** 0..100 points; 100 is healthy. */
  score: number;
  reasons: string[];
  metrics: {
    requestsTotal: number;
    requestsLast5m: number;
    requestsPerSecond: number;
    errorsTotal: number;
    /** Share of requests that errored in the last minute. */
    errorRatePercent: number;
    /** Over the last 5 minutes. */
    p95: { slowestRoute: string | null; slowestRouteP95Ms: number; allRequestsP95AtMostMs: number | null };
    cache: { enabled: boolean; hitRatePercent: number; hitRateLast1mPercent: number; redis: RedisState } | null;
    heapUsedPercent: number;
    eventLoopDelayP99Ms: number;
    cpuPercent: number;
  };
  alertsFiring: number;
  /** The most severe firing alerts first (at most 10). */
  alerts: SummaryAlert[];
  /** Slowest routes over the last 5 minutes (at most 5, with traffic). */
  slowestRoutes: SummaryRoute[];
  /** Most urgent first (at most 5). */
  recommendations: Recommendation[];
  /** The agent's top findings (why routes are slow), warnings first (at most 3); empty when it records none. */
  topFindings: SummaryFinding[];
}

export interface SummaryFinding {
  kind: Finding['kind'];
  severity: Finding['severity'];
  route: string;
  message: string;
  recommendation: string;
  /** `file:line:column`. */
  location: string;
}

const MAX_ALERTS = 10;
const MAX_ROUTES = 5;
const MAX_RECOMMENDATIONS = 5;
const MAX_FINDINGS = 3;
/** Fewer requests than this in the window say little about a route's p95 or error rate. */
const MIN_SAMPLES = 5;
const RANK: Record<Priority, number> = { critical: 0, warning: 1, info: 2 };

export function buildSummary(snapshot: Snapshot, now = Date.now()): ExecutiveSummary {
  const s = snapshot.system;
  const requests = snapshot.endpoints.filter((e) => e.kind !== 'custom');
  const sum = (f: (e: EndpointStats) => number) => requests.reduce((n, e) => n + f(e), 0);
  const slowest = requests.filter((e) => e.windows['5m'].count > 0).sort((a, b) => b.windows['5m'].p95 - a.windows['5m'].p95 || cmp(a.id, b.id));
  const top = slowest[0];
  const cache = snapshot.cache;
  return {
    routelensSummary: 1,
    generatedAt: new Date(now).toISOString(),
    agent: { name: str(snapshot.agent.name), pid: snapshot.agent.pid, version: str(snapshot.agent.version, 40), nodeVersion: str(s.nodeVersion, 40), uptimeSeconds: Math.round(s.uptime) },
    status: snapshot.health.status,
    score: snapshot.health.score,
    reasons: snapshot.health.reasons.slice(0, 6).map((r) => str(r)),
    metrics: {
      requestsTotal: sum((e) => e.count),
      requestsLast5m: sum((e) => e.windows['5m'].count),
      requestsPerSecond: Math.round(s.requestsPerSecond * 100) / 100,
      errorsTotal: sum((e) => e.errors),
      errorRatePercent: percent(s.errorRate),
      p95: { slowestRoute: top ? str(top.id) : null, slowestRouteP95Ms: top ? ms(top.windows['5m'].p95) : 0, allRequestsP95AtMostMs: p95UpperBound(requests) },
      cache: cache ? { enabled: cache.enabled, hitRatePercent: percent(cache.overall.hitRate), hitRateLast1mPercent: percent(cache.window.hitRate), redis: cache.redis } : null,
      heapUsedPercent: share(s.heapUsed, s.heapLimit),
      eventLoopDelayP99Ms: ms(s.eventLoop.delayP99),
      cpuPercent: Math.round(s.cpuPercent),
    },
    alertsFiring: snapshot.alerts.length,
    alerts: [...snapshot.alerts].sort((a, b) => RANK[a.severity] - RANK[b.severity] || b.firedAt - a.firedAt).slice(0, MAX_ALERTS).map(summaryAlert),
    slowestRoutes: slowest.slice(0, MAX_ROUTES).map((e) => ({ route: str(e.id), requests: e.windows['5m'].count, p95Ms: ms(e.windows['5m'].p95), errorRatePercent: share(e.windows['5m'].errors, e.windows['5m'].count), ...locationOf(e) })),
    recommendations: recommend(snapshot, requests),
    topFindings: rankFindings(snapshot.findings ?? [])
      .slice(0, MAX_FINDINGS)
      .map((f) => ({ kind: f.kind, severity: f.severity, route: str(f.endpoint), message: str(f.message, 300), recommendation: str(f.recommendation, 300), location: str(`${f.location.file}:${f.location.line}:${f.location.column}`, 300) })),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function locationOf(e: EndpointStats): { location?: string } {
  const l = e.handlerLocation ?? e.location;
  return l ? { location: str(`${l.file}:${l.line}:${l.column}`, 300) } : {};
}

/** The 5-minute histograms of every route merged: the bucket bound under which 95% of requests finished. */
function p95UpperBound(endpoints: EndpointStats[]): number | null {
  let bounds: number[] | undefined;
  let counts: number[] = [];
  for (const e of endpoints) {
    const h = e.histogram;
    if (!h) continue;
    if (!bounds) {
      bounds = h.bounds;
      counts = new Array<number>(bounds.length).fill(0);
    }
    if (h.bounds.length !== bounds.length) continue;
    h.counts.forEach((c, i) => (counts[i]! += c));
  }
  const total = counts.reduce((a, b) => a + b, 0);
  if (!bounds || !total) return null;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i]!;
    // The last bound is Infinity, `null` once through JSON: no finite bound to give.
    const bound = bounds[i] as number | null;
    if (seen >= 0.95 * total) return bound === null || !Number.isFinite(bound) ? null : bound;
  }
  return null;
}

function alertUnit(rule: AlertRule): SummaryAlert['unit'] {
  switch (rule) {
    case 'route-p95':
    case 'route-avg':
    case 'event-loop-delay':
    case 'latency-anomaly':
    case 'slow-query':
      return 'ms';
    case 'slow-requests':
    case 'cpu': // percent of one core, as the agent reports it
    case 'memory-growth': // bytes of heap
      return 'count';
    case 'error-rate':
    case 'error-rate-spike':
    case 'heap':
    case 'cache-hit-rate':
    case 'rate-limited':
      return 'percent';
    case 'redis':
      return 'state';
    default:
      return assertNever(rule, 'alert rule');
  }
}

function summaryAlert(a: Alert): SummaryAlert {
  const unit = alertUnit(a.rule);
  const n = (v: number) => (unit === 'percent' ? percent(v) : unit === 'ms' ? ms(v) : v);
  return { severity: a.severity, rule: a.rule, target: str(a.target), message: str(a.message, 300), value: n(a.value), threshold: n(a.threshold), unit, firedAt: iso(a.firedAt) };
}

/** Recommendations from the figures themselves (not only from alerts), most urgent first. */
function recommend(snapshot: Snapshot, requests: EndpointStats[]): Recommendation[] {
  const t = snapshot.thresholds;
  const out: Recommendation[] = [];
  const withLocation = (e: EndpointStats, priority: Priority, text: string): Recommendation => ({ priority, text, route: str(e.id), ...locationOf(e) });
  const busy = requests.filter((e) => e.kind !== 'overflow' && e.windows['5m'].count >= MIN_SAMPLES);
  for (const e of [...busy].sort((a, b) => b.windows['5m'].p95 - a.windows['5m'].p95).slice(0, 3)) {
    const p95 = e.windows['5m'].p95;
    if (p95 < t.p95Ms) break;
    out.push(withLocation(e, p95 >= 2 * t.p95Ms ? 'critical' : 'warning', `Speed up this route: its p95 over the last 5 minutes is ${Math.round(p95)} ms, above the ${t.p95Ms} ms threshold. Look at what its handler awaits (database, remote calls) and whether the answer can be cached.`));
  }
  for (const e of busy) {
    const w = e.windows['5m'];
    const rate = w.errors / w.count;
    if (rate >= t.errorRate) out.push(withLocation(e, rate >= 2 * t.errorRate ? 'critical' : 'warning', `Fix the failures of this route: ${percent(rate)}% of its ${w.count} requests in the last 5 minutes errored (threshold ${percent(t.errorRate)}%).`));
  }
  const c = snapshot.cache;
  if (c?.enabled) {
    if (c.redis === 'down') out.push({ priority: 'critical', text: 'Restore Redis: it is down, so the cache serves from memory (L1) only and every instance misses on its own.' });
    else if (c.redis === 'connecting') out.push({ priority: 'warning', text: 'Check Redis: the cache is still connecting to it.' });
    const reads = c.overall.hits + c.overall.misses;
    if (reads >= 20 && c.overall.hitRate < t.cacheHitRate) {
      const worst = [...c.namespaces].filter((n) => n.hits + n.misses > 0).sort((a, b) => a.hitRate - b.hitRate)[0];
      out.push({ priority: 'warning', text: `Raise the cache hit rate: ${percent(c.overall.hitRate)}% of ${reads} reads hit, below the ${percent(t.cacheHitRate)}% target.${worst ? ` The namespace ${JSON.stringify(str(worst.namespace || '(default)', 80))} hits least (${percent(worst.hitRate)}%): check its TTL and how its keys are built.` : ''}` });
    }
  }
  const s = snapshot.system;
  if (s.heapLimit > 0 && s.heapUsed / s.heapLimit >= t.heapPercent) out.push({ priority: 'warning', text: `Look for a memory leak or oversized caches: the heap uses ${share(s.heapUsed, s.heapLimit)}% of its limit.` });
  if (s.eventLoop.delayP99 >= t.eventLoopDelayMs) out.push({ priority: 'warning', text: `Move synchronous work off the event loop: its delay p99 is ${Math.round(s.eventLoop.delayP99)} ms (threshold ${t.eventLoopDelayMs} ms), which slows every request.` });
  for (const rl of snapshot.rateLimits) {
    const total = rl.window.allowed + rl.window.limited;
    if (total >= 20 && rl.window.limited / total >= t.rateLimitedShare) out.push({ priority: 'info', text: `Review the limiter ${JSON.stringify(str(rl.name, 80))}: it refused ${share(rl.window.limited, total)}% of ${total} recent requests.` });
  }
  if (snapshot.droppedEndpoints > 0) out.push({ priority: 'info', text: `${snapshot.droppedEndpoints} requests went to the overflow bucket because the endpoint cap was reached: check for routes registered with values in their paths.` });
  if (!requests.some((e) => e.count > 0)) out.push({ priority: 'info', text: 'No requests recorded yet: exercise the app, then ask again.' });
  if (!out.length) out.push({ priority: 'info', text: 'Nothing needs attention: every figure is within its threshold.' });
  return out.sort((a, b) => RANK[a.priority] - RANK[b.priority]).slice(0, MAX_RECOMMENDATIONS);
}
