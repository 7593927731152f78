/**
 * Number formatting and the code lens title template. Pure.
 * The template is compiled once per configuration change (`compileLensFormat`),
 * so rendering a lens only reads the compiled parts.
 */
import type { EndpointStats, HealthReport, SystemStats } from '../../protocol';
import { plainText } from './text';

/** `routelens.codeLens.format` default. */
export const DEFAULT_LENS_FORMAT = '{method} {route} · p95 {p95} · p99 {p99} · {count} req · {errorRate} err';

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms >= 1000) return `${trim(ms / 1000, ms >= 10_000 ? 0 : 1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${trim(ms, 1)} ms`;
}

export function formatCount(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '0';
  if (n < 1000) return String(Math.round(n));
  if (n < 1e6) return `${trim(n / 1e3, n < 1e4 ? 1 : 0)}k`;
  if (n < 1e9) return `${trim(n / 1e6, n < 1e7 ? 1 : 0)}M`;
  return `${trim(n / 1e9, 1)}G`;
}

/** A fraction 0..1 as a percentage: 0.004 → "0.4%", 0.25 → "25%". */
export function formatPercent(fraction: number): string {
  if (!Number.isFinite(fraction) || fraction <= 0) return '0%';
  const p = fraction * 100;
  return `${trim(p, p < 10 ? 1 : 0)}%`;
}

export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0/s';
  return perSecond < 10 ? `${trim(perSecond, 1)}/s` : `${formatCount(perSecond)}/s`;
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${trim(n, i === 0 || n >= 10 ? 0 : 1)} ${units[i]}`;
}

function trim(n: number, digits: number): string {
  return Number(n.toFixed(digits)).toString();
}

export const LENS_PLACEHOLDERS = ['method', 'route', 'p50', 'p95', 'p99', 'avg', 'min', 'max', 'count', 'errors', 'errorRate', 'rate', 'p95_1m', 'count_1m'] as const;
export type LensPlaceholder = (typeof LENS_PLACEHOLDERS)[number];

const placeholderValue: Record<LensPlaceholder, (e: EndpointStats) => string> = {
  method: (e) => e.method,
  route: (e) => e.route,
  p50: (e) => (e.count ? formatMs(e.p50) : '—'),
  p95: (e) => (e.count ? formatMs(e.p95) : '—'),
  p99: (e) => (e.count ? formatMs(e.p99) : '—'),
  avg: (e) => (e.count ? formatMs(e.avg) : '—'),
  min: (e) => (e.count ? formatMs(e.min) : '—'),
  max: (e) => (e.count ? formatMs(e.max) : '—'),
  count: (e) => formatCount(e.count),
  errors: (e) => formatCount(e.errors),
  errorRate: (e) => formatPercent(e.count ? e.errors / e.count : 0),
  rate: (e) => formatRate(e.rate),
  p95_1m: (e) => (e.windows?.['1m']?.count ? formatMs(e.windows['1m'].p95) : '—'),
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
  const p95 = Number.isFinite(worstP95) ? formatMs(worstP95) : '—';
  return plainText(`${name} · ${rps} · p95 ${p95} · ${health?.status ?? 'unknown'}`, 120);
}
