/**
 * The History tab's pure parts (no DOM): the ranges and the resolution each
 * asks for, a defensive read of the agent's `history.get` answer, the chart
 * series (broken where no minute, hour or day was recorded: the app was not
 * running), the commit markers' labels and the time axis labels.
 */
import type { CommitMarker, HistoryAnswer, HistoryPoint, HistoryResolution } from '../protocol/history';

export const HISTORY_RANGES = ['6h', '24h', '7d', '30d'] as const;
export type HistoryRange = (typeof HISTORY_RANGES)[number];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Each range's span and the resolution it asks for (about 24 to 360 points). */
export const RANGE_SPECS: Readonly<Record<HistoryRange, { label: string; ms: number; resolution: HistoryResolution }>> = {
  '6h': { label: '6 h', ms: 6 * HOUR, resolution: 'minute' },
  '24h': { label: '24 h', ms: DAY, resolution: 'hour' },
  '7d': { label: '7 d', ms: 7 * DAY, resolution: 'hour' },
  '30d': { label: '30 d', ms: 30 * DAY, resolution: 'day' },
};

export const RESOLUTION_MS: Readonly<Record<HistoryResolution, number>> = { minute: 60_000, hour: HOUR, day: DAY };

/** The arguments of `history.get` for a range ending at `now`. */
export function historyArgs(endpoint: string, range: HistoryRange, now: number): { endpoint: string; from: number; to: number; resolution: HistoryResolution } {
  const spec = RANGE_SPECS[range];
  return { endpoint, from: Math.max(0, Math.floor(now - spec.ms)), to: Math.floor(now), resolution: spec.resolution };
}

const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const opt = (v: unknown): number | undefined => (num(v) && v >= 0 ? v : undefined);

function readGit(v: unknown): { commit: string; branch: string; dirty: boolean } | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const g = v as Record<string, unknown>;
  if (typeof g.commit !== 'string') return undefined;
  return { commit: g.commit, branch: typeof g.branch === 'string' ? g.branch : '', dirty: g.dirty === true };
}

/**
 * The answer as the view uses it, or null when it is not one. Points and
 * markers that are malformed are dropped; both come out sorted by time.
 */
export function readHistory(result: unknown): HistoryAnswer | null {
  if (!result || typeof result !== 'object') return null;
  const r = result as Record<string, unknown>;
  if (!Array.isArray(r.points) || !num(r.from) || !num(r.to)) return null;
  const resolution: HistoryResolution = r.resolution === 'hour' || r.resolution === 'day' ? r.resolution : 'minute';
  const points: HistoryPoint[] = [];
  for (const p of r.points as unknown[]) {
    if (!p || typeof p !== 'object') continue;
    const x = p as Record<string, unknown>;
    if (!num(x.t) || !num(x.count) || x.count < 0) continue;
    const git = readGit(x.git);
    points.push({ t: x.t, count: x.count, errors: num(x.errors) && x.errors >= 0 ? x.errors : 0, p50: opt(x.p50), p95: opt(x.p95), p99: opt(x.p99), ...(git ? { git } : {}) });
  }
  const commits: CommitMarker[] = [];
  for (const m of Array.isArray(r.commits) ? (r.commits as unknown[]) : []) {
    const git = readGit(m);
    const t = (m as { t?: unknown } | null)?.t;
    if (git && num(t)) commits.push({ t, ...git });
  }
  points.sort((a, b) => a.t - b.t);
  commits.sort((a, b) => a.t - b.t);
  return { endpoint: typeof r.endpoint === 'string' ? r.endpoint : '', resolution, from: r.from, to: r.to, points, commits };
}

export interface XY {
  x: number;
  y: number | null;
}

export interface HistorySeries {
  p50: XY[];
  p95: XY[];
  p99: XY[];
  /** Requests per second over each point's minute, hour or day. */
  rate: XY[];
  errors: XY[];
}

/**
 * The chart series of an answer. Where a point is missing (no requests were
 * recorded: the app was stopped, or idle) a null breaks the line instead of
 * drawing a slope across the gap.
 */
export function historySeries(a: HistoryAnswer): HistorySeries {
  const step = RESOLUTION_MS[a.resolution];
  const out: HistorySeries = { p50: [], p95: [], p99: [], rate: [], errors: [] };
  let prev: number | undefined;
  for (const p of a.points) {
    if (prev !== undefined && p.t - prev > step * 1.5) {
      const gap = { x: prev + step, y: null };
      for (const s of Object.values(out)) s.push(gap);
    }
    prev = p.t;
    out.p50.push({ x: p.t, y: p.p50 ?? null });
    out.p95.push({ x: p.t, y: p.p95 ?? null });
    out.p99.push({ x: p.t, y: p.p99 ?? null });
    out.rate.push({ x: p.t, y: p.count / (step / 1000) });
    out.errors.push({ x: p.t, y: p.errors });
  }
  return out;
}

/** A commit as a marker reads: `abc1234 main`, `(dirty)` when the working tree had changes. */
export function markerLabel(m: Pick<CommitMarker, 'commit' | 'branch' | 'dirty'>): string {
  const short = m.commit.slice(0, 7);
  return `${short}${m.branch ? ` ${m.branch}` : ''}${m.dirty ? ' (dirty)' : ''}`;
}

/** The time axis step for a span: whole hours or days, at most about eight labels. */
export function tickStep(spanMs: number): number {
  if (spanMs <= 6 * HOUR) return HOUR;
  if (spanMs <= DAY) return 4 * HOUR;
  if (spanMs <= 7 * DAY) return DAY;
  return 5 * DAY;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A time axis label (local time): `14:05` within a day's span, `12-03 14:00` within a week, `12-03` beyond. */
export function timeLabel(t: number, spanMs: number): string {
  const d = new Date(t);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const md = `${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  if (spanMs <= DAY) return hm;
  if (spanMs <= 7 * DAY) return `${md} ${hm}`;
  return md;
}

/** A full local date and time, for tooltips and the commits table: `2026-12-03 14:05`. */
export function dateTime(t: number): string {
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
