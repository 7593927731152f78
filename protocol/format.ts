/**
 * How RouteLens writes figures, for the extension (lens titles, status bar,
 * tree, report) and the dashboard alike. Pure, free of the DOM and of any
 * validation library, so the webview bundle imports it as it is.
 *
 * One rule throughout: small figures keep about two significant digits, large
 * ones are whole, trailing zeros are trimmed ("1.0" is "1"), and a figure that
 * is missing is an em dash.
 *
 * | figure                        | rule                                                                                     | examples                               |
 * | ----------------------------- | ---------------------------------------------------------------------------------------- | -------------------------------------- |
 * | missing (undefined, NaN, ±∞)  | `—`                                                                                      | `—`                                    |
 * | duration (ms)                 | below 1 ms two decimals, below 10 ms one, below 1 s whole ms; then seconds: one decimal below 10 s, whole above; negative is missing | `0.42 ms` `4.3 ms` `42 ms` `1.2 s` `12 s` |
 * | count, plain number           | below 10 one decimal, below 1,000 whole; then k, M, G with one decimal below 10 of the unit, whole above; the sign kept | `4.3` `999` `1.2k` `12k` `2.5M` |
 * | rate (per second)             | a plain number and `/s`                                                                  | `0.5/s` `12/s` `1.2k/s`                |
 * | percentage (a fraction 0..1)  | zero is `0%`; above zero and below 0.1 % `<0.1%`; below 10 % one decimal; whole above    | `0%` `<0.1%` `0.4%` `25%`              |
 * | size (bytes)                  | whole bytes; then KiB, MiB, GiB with one decimal below 10 of the unit, whole above; negative is missing | `512 B` `1.5 KiB` `50 MiB` |
 * | uptime (seconds)              | the largest units down to seconds, or three units from days                              | `45s` `2m 5s` `1h 2m 5s` `3d 4h 0m`    |
 * | percentile of a window        | a duration when the window holds `PERCENTILE_MIN_COUNT` requests (p50 5, p95 20, p99 100); otherwise `—` and why | `42 ms` / `—` "p99 needs 100 requests in the last minute; 12 so far" |
 *
 * Which window a figure covers is named the same way everywhere (`WINDOW_LABELS`,
 * `NOW_LABEL`): "now (5 s)", "last minute", "last 5 minutes", "since start".
 */
import type { EndpointStats, WindowName } from './types';

/** What a missing figure is written as. */
export const MISSING = '\u2014';

const missing = (n: number | undefined): n is undefined => n === undefined || !Number.isFinite(n);

/** `digits` decimals, trailing zeros trimmed. */
function fixed(n: number, digits: number): string {
  return Number(n.toFixed(digits)).toString();
}

export function formatMs(ms: number | undefined): string {
  if (missing(ms) || ms < 0) return MISSING;
  if (ms < 1) return `${fixed(ms, 2)} ms`;
  if (ms < 10) return `${fixed(ms, 1)} ms`;
  if (ms < 1000) return `${fixed(ms, 0)} ms`;
  return `${fixed(ms / 1000, ms < 10_000 ? 1 : 0)} s`;
}

/** Counts and other plain numbers. */
export function formatCount(n: number | undefined): string {
  if (missing(n)) return MISSING;
  if (n < 0) return `-${formatCount(-n)}`;
  if (n < 10) return fixed(n, 1);
  if (n < 1000) return fixed(n, 0);
  if (n < 1e6) return `${fixed(n / 1e3, n < 1e4 ? 1 : 0)}k`;
  if (n < 1e9) return `${fixed(n / 1e6, n < 1e7 ? 1 : 0)}M`;
  return `${fixed(n / 1e9, n < 1e10 ? 1 : 0)}G`;
}

export function formatRate(perSecond: number | undefined): string {
  return missing(perSecond) ? MISSING : `${formatCount(perSecond)}/s`;
}

/** A fraction 0..1 as a percentage: 0.004 → "0.4%", 0.25 → "25%". */
export function formatPercent(fraction: number | undefined): string {
  if (missing(fraction)) return MISSING;
  if (fraction < 0) return `-${formatPercent(-fraction)}`;
  const p = fraction * 100;
  if (p === 0) return '0%';
  if (p < 0.1) return '<0.1%';
  return `${fixed(p, p < 10 ? 1 : 0)}%`;
}

export function formatBytes(n: number | undefined): string {
  if (missing(n) || n < 0) return MISSING;
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${fixed(v, i === 0 || v >= 10 ? 0 : 1)} ${units[i]}`;
}

/** A process uptime in seconds: "45s", "2m 5s", "1h 2m 5s", "3d 4h 0m". */
export function formatUptime(seconds: number | undefined): string {
  if (missing(seconds) || seconds < 0) return MISSING;
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = s % 60;
  if (d > 0) return `${d}d ${hh}h ${mm}m`;
  if (hh > 0) return `${hh}h ${mm}m ${ss}s`;
  if (mm > 0) return `${mm}m ${ss}s`;
  return `${ss}s`;
}

/** How the live windows are named next to a figure and in a reason. "since start" is since the agent started or was last reset. */
export const WINDOW_LABELS: Readonly<Record<WindowName, string>> = { '1m': 'last minute', '5m': 'last 5 minutes', all: 'since start' };

/** The span of a "now" rate (ms), and its label. */
export const NOW_WINDOW_MS = 5000;
export const NOW_LABEL = 'now (5 s)';

/**
 * Requests a window must hold before a percentile is shown. With fewer, the
 * nearest-rank percentile is the same one or two requests as its neighbours
 * (p95 = p99 = the slowest request), which a reader would take for separate
 * measurements.
 */
export const PERCENTILE_MIN_COUNT = { p50: 5, p95: 20, p99: 100 } as const;
export type Percentile = keyof typeof PERCENTILE_MIN_COUNT;

/** A percentile as it is shown: its text, and when it is a dash, why (for a tooltip). */
export interface PercentileFigure {
  /** The duration, or `—`. */
  text: string;
  shown: boolean;
  /** Empty when shown; otherwise e.g. "p99 needs 100 requests in the last minute; 12 so far". */
  why: string;
}

/**
 * The one rule deciding whether a percentile of a window is shown (the lens,
 * the status bar, the tree, the dashboard and the report all call it).
 * `window` names the window in the reason: a `WindowName` or a label.
 */
export function percentileFigure(which: Percentile, summary: { count: number } & Record<Percentile, number>, window: WindowName | string = 'this window'): PercentileFigure {
  const count = Number.isFinite(summary.count) && summary.count > 0 ? summary.count : 0;
  const need = PERCENTILE_MIN_COUNT[which];
  if (count >= need) return { text: formatMs(summary[which]), shown: true, why: '' };
  return { text: MISSING, shown: false, why: `${which} needs ${need} requests ${inWindow(window)}; ${count === 0 ? 'none' : formatCount(count)} so far` };
}

/** "in the last minute", "since start", "in this window": a window as the end of a sentence. */
export function inWindow(window: WindowName | string): string {
  const label = (WINDOW_LABELS as Record<string, string>)[window] ?? window;
  if (label === WINDOW_LABELS.all) return label;
  return label === 'this window' ? 'in this window' : `in the ${label}`;
}

/** The endpoint with the worst p95 of a window among those whose p95 is shown (`percentileFigure`), if any. */
export function worstP95(endpoints: Iterable<EndpointStats>, window: WindowName): EndpointStats | undefined {
  let worst: EndpointStats | undefined;
  let worstP95 = -1;
  for (const e of endpoints) {
    const w = e.windows?.[window];
    if (w && w.p95 > worstP95 && percentileFigure('p95', w, window).shown) {
      worst = e;
      worstP95 = w.p95;
    }
  }
  return worst;
}
