/**
 * The code lens title template, its tooltip, and the status bar text. Pure.
 * Figures are written by protocol/format.ts (the dashboard's rules too),
 * percentiles only when their window holds enough requests
 * (`percentileFigure`). The template is compiled once per configuration change
 * (`compileLensFormat`), so rendering a lens only reads the compiled parts.
 *
 * Windows: the lens's figures are since start (the agent's lifetime figures,
 * or since the last reset) except `{rate}` (last minute) and `{p95_1m}`,
 * `{count_1m}`; the status bar's rate is "now" (the last 5 s, from the
 * store's totals) and its p95 the worst route's over the last minute.
 */
import { type BaselineComparison, type BaselineDelta, type EndpointStats, type HealthReport, MISSING, NOW_LABEL, PERCENTILE_MIN_COUNT, type Percentile, type SystemStats, WINDOW_LABELS, formatCount, formatMs, formatPercent, formatRate, percentileFigure, worstP95, assertNever } from '../../protocol';
import { plainText } from './text';

/** `routelens.codeLens.format` default. */
export const DEFAULT_LENS_FORMAT = '{method} {route} · p95 {p95} · p99 {p99} · {count} req · {errorRate} err';

export const LENS_PLACEHOLDERS = ['method', 'route', 'p50', 'p95', 'p99', 'avg', 'min', 'max', 'count', 'errors', 'errorRate', 'rate', 'p95_1m', 'count_1m'] as const;
export type LensPlaceholder = (typeof LENS_PLACEHOLDERS)[number];

const placeholderValue: Record<LensPlaceholder, (e: EndpointStats) => string> = {
  method: (e) => e.method,
  route: (e) => e.route,
  p50: (e) => percentileFigure('p50', e, 'all').text,
  p95: (e) => percentileFigure('p95', e, 'all').text,
  p99: (e) => percentileFigure('p99', e, 'all').text,
  avg: (e) => (e.count ? formatMs(e.avg) : MISSING),
  min: (e) => (e.count ? formatMs(e.min) : MISSING),
  max: (e) => (e.count ? formatMs(e.max) : MISSING),
  count: (e) => formatCount(e.count),
  errors: (e) => formatCount(e.errors),
  errorRate: (e) => formatPercent(e.count ? e.errors / e.count : 0),
  rate: (e) => formatRate(e.rate),
  p95_1m: (e) => (e.windows?.['1m'] ? percentileFigure('p95', e.windows['1m'], '1m').text : MISSING),
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

/**
 * A lens's tooltip: which window its figures cover, why a percentile is a
 * dash, and what a click does. Plain text.
 */
export function lensTooltip(e: EndpointStats, handler: boolean): string {
  const lines = [`${formatCount(e.count)} requests ${WINDOW_LABELS.all} (rate: ${WINDOW_LABELS['1m']}).`];
  for (const p of ['p50', 'p95', 'p99'] as Percentile[]) {
    const f = percentileFigure(p, e, 'all');
    if (!f.shown) lines.push(`${f.why}.`);
  }
  lines.push(handler ? 'Handler of this route: open it in the RouteLens dashboard.' : 'Open this route in the RouteLens dashboard.');
  return lines.join('\n');
}

/** What a baseline is called after "vs": the branch, or a saved file's base name. */
export function baselineName(c: Pick<BaselineComparison, 'source' | 'name'>): string {
  const name = c.source === 'file' ? (c.name.split(/[\\/]/).pop() ?? c.name) : c.name;
  return plainText(name, 40);
}

/** A signed relative change: "+35%", "-20%", "0%". */
export function signedPercent(change: number): string {
  const text = formatPercent(Math.abs(change));
  return change > 0 ? `+${text}` : change < 0 ? `-${text}` : text;
}

/**
 * The baseline lens's title, e.g. `p95 42 ms ▲ 35% vs main` (▼ when
 * improved); undefined unless the verdict is regressed or improved, so
 * nothing shows while the difference is within the noise of both samples or
 * there are too few requests to tell.
 */
export function baselineLensTitle(d: BaselineDelta, c: Pick<BaselineComparison, 'source' | 'name'>): string | undefined {
  if (d.verdict !== 'regressed' && d.verdict !== 'improved') return undefined;
  const arrow = d.verdict === 'regressed' ? '\u25B2' : '\u25BC';
  return `p95 ${formatMs(d.head)} ${arrow} ${formatPercent(Math.abs(d.change))} vs ${baselineName(c)}`;
}

/**
 * One line saying how an endpoint compares with the baseline, for every
 * verdict (the lens tooltips): the two p95s, the change with its 95 %
 * interval and the requests on each side, and whether the difference is
 * beyond the noise, within it, or cannot be told.
 */
export function baselineTooltip(d: BaselineDelta, c: Pick<BaselineComparison, 'source' | 'name'>): string {
  const name = baselineName(c);
  const figures = `p95 ${formatMs(d.head)} now vs ${formatMs(d.base)} on ${name}: ${signedPercent(d.change)} (95% interval ${signedPercent(d.low)} to ${signedPercent(d.high)}; ${formatCount(d.headCount)} and ${formatCount(d.baseCount)} requests)`;
  switch (d.verdict) {
    case 'regressed':
      return `Slower than ${name}, beyond the noise of both samples. ${figures}.`;
    case 'improved':
      return `Faster than ${name}, beyond the noise of both samples. ${figures}.`;
    case 'unchanged':
      return `Within noise of ${name}. ${figures}.`;
    case 'inconclusive': {
      const few = Math.min(d.headCount, d.baseCount) < PERCENTILE_MIN_COUNT.p95;
      return `${few ? 'Too few requests' : 'Too noisy'} to compare with ${name}. ${figures}.`;
    }
    default:
      return assertNever(d.verdict, 'verdict');
  }
}

/**
 * Status bar text, e.g. `shop · 12/s now · p95 42 ms (1m) · healthy`. The
 * rate is "now" once the store knows it (a second after connecting), the
 * agent's last minute until then; each is labelled.
 */
export function statusText(name: string, system: SystemStats | undefined, endpoints: readonly EndpointStats[], health: HealthReport | undefined, nowRate?: number): string {
  const rps = nowRate !== undefined ? `${formatRate(nowRate)} now` : `${formatRate(system?.requestsPerSecond ?? 0)} (1m)`;
  const worst = worstP95(endpoints, '1m');
  const p95 = worst ? formatMs(worst.windows['1m'].p95) : MISSING;
  return plainText(`${name} · ${rps} · p95 ${p95} (1m) · ${health?.status ?? 'unknown'}`, 120);
}

/** Status bar tooltip: each figure with the window it covers. */
export function statusTooltip(name: string, pid: number, system: SystemStats | undefined, endpoints: readonly EndpointStats[], nowRate?: number): string {
  const worst = worstP95(endpoints, '1m');
  const lines = [
    `RouteLens: ${plainText(name)} (pid ${pid})`,
    `Requests/s ${NOW_LABEL}: ${formatRate(nowRate)}; ${WINDOW_LABELS['1m']}: ${formatRate(system?.requestsPerSecond)}`,
    `Error rate, ${WINDOW_LABELS['1m']}: ${formatPercent(system?.errorRate)}`,
    worst
      ? `Worst p95, ${WINDOW_LABELS['1m']}: ${formatMs(worst.windows['1m'].p95)} (${plainText(worst.id)}, ${formatCount(worst.windows['1m'].count)} requests)`
      : `Worst p95, ${WINDOW_LABELS['1m']}: ${MISSING} (no route has the ${PERCENTILE_MIN_COUNT.p95} requests a p95 needs)`,
    'Click to open the dashboard.',
  ];
  return lines.join('\n');
}

/** A tree item's description and tooltip for an endpoint: p95 and requests since start. */
export function endpointSummary(e: EndpointStats): { description: string; tooltip: string } {
  if (!e.count) return { description: 'no requests', tooltip: `No requests ${WINDOW_LABELS.all}.` };
  const p95 = percentileFigure('p95', e, 'all');
  return { description: `p95 ${p95.text} · ${formatCount(e.count)} req`, tooltip: `${formatCount(e.count)} requests ${WINDOW_LABELS.all}.${p95.shown ? '' : ` ${p95.why}.`}` };
}
