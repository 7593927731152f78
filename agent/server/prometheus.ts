/**
 * Prometheus text exposition format 0.0.4 built from a snapshot. Label values
 * are escaped (backslash, double quote, newline), so hostile route strings
 * cannot forge series.
 */
import type { Snapshot } from '../../protocol';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

class Writer {
  private readonly lines: string[] = [];
  family(name: string, type: 'counter' | 'gauge' | 'summary', help: string): void {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
  }
  sample(name: string, labels: Record<string, string>, value: number): void {
    const keys = Object.keys(labels);
    const l = keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
    this.lines.push(`${name}${l} ${num(value)}`);
  }
  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

export function renderMetrics(s: Snapshot): string {
  const w = new Writer();
  const eps = s.endpoints;
  const label = (e: (typeof eps)[number]) => ({ method: e.method, route: e.route });

  w.family('routelens_http_requests_total', 'counter', 'Requests completed per endpoint since start or reset.');
  for (const e of eps) w.sample('routelens_http_requests_total', label(e), e.count);
  w.family('routelens_http_errors_total', 'counter', 'Requests that errored per endpoint.');
  for (const e of eps) w.sample('routelens_http_errors_total', label(e), e.errors);
  w.family('routelens_http_aborted_total', 'counter', 'Requests the client aborted per endpoint.');
  for (const e of eps) w.sample('routelens_http_aborted_total', label(e), e.aborted);
  w.family('routelens_http_request_duration_seconds', 'summary', 'Request duration over the 5-minute window.');
  for (const e of eps) {
    const win = e.windows['5m'];
    for (const [q, v] of [['0.5', win.p50], ['0.95', win.p95], ['0.99', win.p99]] as const) {
      w.sample('routelens_http_request_duration_seconds', { ...label(e), quantile: q }, v / 1000);
    }
    w.sample('routelens_http_request_duration_seconds_sum', label(e), (win.avg * win.count) / 1000);
    w.sample('routelens_http_request_duration_seconds_count', label(e), win.count);
  }
  w.family('routelens_http_requests_per_second', 'gauge', 'Requests per second over the last minute.');
  for (const e of eps) w.sample('routelens_http_requests_per_second', label(e), e.rate);
  w.family('routelens_endpoints_dropped_total', 'counter', 'Endpoints folded into the overflow bucket by the cap.');
  w.sample('routelens_endpoints_dropped_total', {}, s.droppedEndpoints);

  const p = s.system;
  const gauges: Array<[string, string, number]> = [
    ['routelens_process_resident_memory_bytes', 'Resident set size.', p.rss],
    ['routelens_process_heap_used_bytes', 'V8 heap used.', p.heapUsed],
    ['routelens_process_heap_total_bytes', 'V8 heap total.', p.heapTotal],
    ['routelens_process_heap_limit_bytes', 'V8 heap limit.', p.heapLimit],
    ['routelens_process_cpu_percent', 'Process CPU use, percent of one core.', p.cpuPercent],
    ['routelens_process_uptime_seconds', 'Process uptime.', p.uptime],
    ['routelens_eventloop_delay_p99_seconds', 'Event-loop delay p99.', p.eventLoop.delayP99 / 1000],
    ['routelens_eventloop_utilization', 'Event-loop utilisation 0..1.', p.eventLoop.utilization],
    ['routelens_error_rate', 'Share of requests in the last minute that errored.', p.errorRate],
    ['routelens_alerts_firing', 'Alerts currently firing.', s.alerts.length],
    ['routelens_health_score', 'Health score 0..100.', s.health.score],
  ];
  for (const [name, help, v] of gauges) {
    w.family(name, 'gauge', help);
    w.sample(name, {}, v);
  }
  w.family('routelens_gc_pause_seconds_total', 'counter', 'Total garbage-collection pause time.');
  w.sample('routelens_gc_pause_seconds_total', {}, p.gc.pauseTotal / 1000);

  if (s.cache) {
    const c = s.cache;
    w.family('routelens_cache_hits_total', 'counter', 'Cache hits by tier.');
    w.sample('routelens_cache_hits_total', { tier: 'l1' }, c.l1.hits);
    w.sample('routelens_cache_hits_total', { tier: 'l2' }, c.l2.hits);
    w.family('routelens_cache_misses_total', 'counter', 'Cache misses by tier.');
    w.sample('routelens_cache_misses_total', { tier: 'l1' }, c.l1.misses);
    w.sample('routelens_cache_misses_total', { tier: 'l2' }, c.l2.misses);
    w.family('routelens_cache_entries', 'gauge', 'Entries in the in-memory tier.');
    w.sample('routelens_cache_entries', {}, c.l1.entries);
  }
  if (s.rateLimits.length > 0) {
    w.family('routelens_ratelimit_allowed_total', 'counter', 'Requests a limiter let through.');
    for (const r of s.rateLimits) w.sample('routelens_ratelimit_allowed_total', { limiter: r.name }, r.allowed);
    w.family('routelens_ratelimit_limited_total', 'counter', 'Requests a limiter refused.');
    for (const r of s.rateLimits) w.sample('routelens_ratelimit_limited_total', { limiter: r.name }, r.limited);
    w.family('routelens_ratelimit_store_errors_total', 'counter', 'Rate-limit store failures.');
    for (const r of s.rateLimits) w.sample('routelens_ratelimit_store_errors_total', { limiter: r.name }, r.storeErrors);
  }
  return w.text();
}
