/**
 * The code lens title template and the status bar text. Pure. Figures are
 * written by protocol/format.ts (the dashboard's rules too). The template is
 * compiled once per configuration change (`compileLensFormat`), so rendering a
 * lens only reads the compiled parts.
 */
import { type EndpointStats, type HealthReport, MISSING, type SystemStats, formatCount, formatMs, formatPercent, formatRate } from '../../protocol';
import { plainText } from './text';

/** `routelens.codeLens.format` default. */
export const DEFAULT_LENS_FORMAT = '{method} {route} · p95 {p95} · p99 {p99} · {count} req · {errorRate} err';

export const LENS_PLACEHOLDERS = ['method', 'route', 'p50', 'p95', 'p99', 'avg', 'min', 'max', 'count', 'errors', 'errorRate', 'rate', 'p95_1m', 'count_1m'] as const;
export type LensPlaceholder = (typeof LENS_PLACEHOLDERS)[number];

const placeholderValue: Record<LensPlaceholder, (e: EndpointStats) => string> = {
  method: (e) => e.method,
  route: (e) => e.route,
  p50: (e) => (e.count ? formatMs(e.p50) : MISSING),
  p95: (e) => (e.count ? formatMs(e.p95) : MISSING),
  p99: (e) => (e.count ? formatMs(e.p99) : MISSING),
  avg: (e) => (e.count ? formatMs(e.avg) : MISSING),
  min: (e) => (e.count ? formatMs(e.min) : MISSING),
  max: (e) => (e.count ? formatMs(e.max) : MISSING),
  count: (e) => formatCount(e.count),
  errors: (e) => formatCount(e.errors),
  errorRate: (e) => formatPercent(e.count ? e.errors / e.count : 0),
  rate: (e) => formatRate(e.rate),
  p95_1m: (e) => (e.windows?.['1m']?.count ? formatMs(e.windows['1m'].p95) : MISSING),
  count_1m: (e) => formatCount(e.windows?.['1m']?.count ?? 0),
};

export type LensFormatter = (e: EndpointStats) => string;

/**
 * Compiles a title template with `{placeholder}` fields (see LENS_PLACEHOLDERS).
 * Unknown placeholders stay as typed, so a mistake is visible. The result is
 * plain text: agent-provided strings are sanitised.
 */
export function compileLensFormat(format: string = DEFAULT_LENS_FORMAT): LensFormatter {
  const source = typeof format === 'string' && format.trim() ? format.slice(0, 500) : DEFAULT_LENS_FORMAT;
  const parts: Array<string | ((e: EndpointStats) => string)> = [];
  const re = /\{([A-Za-z0-9_]+)\}/g;
  let last = 0;
  for (let m = re.exec(source); m; m = re.exec(source)) {
    const name = m[1] as LensPlaceholder;
    if (!Object.prototype.hasOwnProperty.call(placeholderValue, name)) continue;
    if (m.index > last) parts.push(source.slice(last, m.index));
    parts.push(placeholderValue[name]);
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  return (e) => plainText(parts.map((p) => (typeof p === 'string' ? p : p(e))).join(''), 300);
}

/** Status bar text, e.g. `RouteLens: shop · 12/s · p95 42 ms · healthy`. */
export function statusText(name: string, system: SystemStats | undefined, endpoints: EndpointStats[], health: HealthReport | undefined): string {
  const rps = system ? formatRate(system.requestsPerSecond) : '0/s';
  const routed = endpoints.filter((e) => e.count > 0);
  const worstP95 = routed.length ? Math.max(...routed.map((e) => e.windows?.['1m']?.count ? e.windows['1m'].p95 : e.p95)) : NaN;
  return plainText(`${name} · ${rps} · p95 ${formatMs(worstP95)} · ${health?.status ?? 'unknown'}`, 120);
}
