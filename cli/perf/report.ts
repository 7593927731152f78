/**
 * The files `routelens baseline` and `routelens smoke` write (JSON and Markdown side by side),
 * and the Markdown of a comparison. Formats: docs/baselines.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { GitInfo } from './git';
import type { LoadSettings, RouteFigures } from './measure';
import type { PathSource, Plan, Skipped, Target } from './scenario';
import type { Verdict } from '../../protocol/history';
import type { Judged } from './stats';

export const BASELINE_VERSION = 1;

export interface BaselineRoute {
  id: string;
  method: string;
  count: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  rps: number;
  sketch: string;
  /** Where the paths it was driven with came from; `route`: the route itself (no parameters). */
  source?: PathSource;
  /** Those paths, for a route with parameters. */
  paths?: string[];
}

/** The load a baseline was measured under. */
export interface BaselineSettings extends Omit<LoadSettings, 'connections'> {
  /**
   * How the paced phase sent its requests: `open-loop` (request n at n/rate, cli/perf/load.ts).
   * Absent in files written before: autocannon's quota per connection per second, a burst at the
   * start of every second, whose queueing is in those files' latencies.
   */
  pacing?: 'open-loop';
}

export interface BaselineReport {
  version: 1;
  app: string;
  createdAt: string;
  git?: GitInfo;
  node: string;
  settings: BaselineSettings;
  routes: BaselineRoute[];
  skipped: Skipped[];
}

/** A driven route's `source` and (for a route with parameters) `paths`, as the reports write them. */
export function drivenPaths(targets: readonly Target[], id: string): { source?: PathSource; paths?: string[] } {
  const t = targets.find((x) => x.id === id);
  if (!t) return {};
  return t.source === 'route' ? { source: t.source } : { source: t.source, paths: t.paths };
}

const SOURCE_TEXT: Record<PathSource, string> = { scenario: 'scenario', history: 'history', 'slow-log': 'slow log', route: 'the route' };

/** The Markdown cell saying where a route's paths came from: `history (2)`. */
export function sourceCell(r: { source?: PathSource; paths?: readonly string[] }): string {
  if (!r.source) return '';
  return r.source === 'route' ? SOURCE_TEXT.route : `${SOURCE_TEXT[r.source]} (${r.paths?.length ?? 0})`;
}

export function baselineReport(app: string, figures: readonly RouteFigures[], settings: LoadSettings, plan: Plan, git: GitInfo | undefined): BaselineReport {
  const { connections: _c, ...rest } = settings;
  void _c;
  return {
    version: BASELINE_VERSION,
    app,
    createdAt: new Date().toISOString(),
    ...(git ? { git } : {}),
    node: process.version,
    settings: { ...rest, pacing: 'open-loop' },
    routes: figures.map((f) => ({ id: f.id, method: f.method, count: f.count, errors: f.errors, p50: f.p50, p95: f.p95, p99: f.p99, rps: f.rps, sketch: f.sketch, ...drivenPaths(plan.targets, f.id) })),
    skipped: plan.skipped,
  };
}

/** Reads a baseline file; throws with the file's name when it is not one. */
export function parseBaseline(text: string, file: string): BaselineReport {
  let data: unknown;
  try {
    data = JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`, { cause: err });
  }
  const r = data as Partial<BaselineReport> | null;
  if (!r || typeof r !== 'object' || r.version !== BASELINE_VERSION || !Array.isArray(r.routes)) throw new Error(`${file}: not a routelens baseline (version ${BASELINE_VERSION} with routes)`);
  for (const [i, route] of r.routes.entries()) {
    if (typeof route?.id !== 'string' || typeof route.count !== 'number' || typeof route.sketch !== 'string') throw new Error(`${file}: routes[${i}] needs id, count and sketch`);
  }
  return r as BaselineReport;
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const cell = (s: string) => s.replace(/\|/g, '\\|');

function gitLine(git: GitInfo | undefined): string {
  return git ? `\`${git.commit.slice(0, 12)}\` on ${cell(git.branch)}${git.dirty ? ' (uncommitted changes)' : ''}` : 'not a git repository';
}

export function baselineMarkdown(r: BaselineReport): string {
  const s = r.settings;
  const lines = [
    `## RouteLens baseline: ${cell(r.app)}`,
    '',
    `${r.createdAt} · ${gitLine(r.git)} · Node ${r.node} · ${s.rate} req/s for ${s.seconds} s, then ${s.peakSeconds} s at peak`,
    '',
    '| Route | Requests | Errors | p50 ms | p95 ms | p99 ms | Peak req/s | Paths from |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...r.routes.map((x) => `| \`${cell(x.id)}\` | ${x.count} | ${x.errors} | ${ms(x.p50)} | ${ms(x.p95)} | ${ms(x.p99)} | ${x.rps.toFixed(1)} | ${sourceCell(x)} |`),
  ];
  lines.push(...skippedMarkdown(r.skipped));
  return `${lines.join('\n')}\n`;
}

export function skippedMarkdown(skipped: readonly Skipped[]): string[] {
  if (!skipped.length) return [];
  return ['', `Not driven (${skipped.length}):`, '', ...skipped.map((s) => `- \`${cell(s.id)}\`: ${s.reason}`)];
}

/** `x.json` → writes x.json and x.md; returns the Markdown path. */
export function writeJsonAndMarkdown(out: string, json: unknown, markdown: string): string {
  const md = out.endsWith('.json') ? `${out.slice(0, -5)}.md` : `${out}.md`;
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(md, markdown);
  return md;
}

// ------------------------------------------------------------------ comparisons

export const METRICS = ['p50', 'p95', 'p99', 'rps'] as const;
export type Metric = (typeof METRICS)[number];

export interface RouteComparison {
  id: string;
  /** The route's verdict: p95's (the gate). */
  verdict: Verdict;
  metrics: Record<Metric, Judged & { noise?: number }>;
}

export interface ComparisonReport {
  threshold: number;
  method: 'files' | 'rounds';
  rounds?: number;
  routes: RouteComparison[];
  /** Routes in only one of the two sides. */
  onlyBase: string[];
  onlyHead: string[];
  /** Routes with parameters: where the paths both sides were driven with came from, and the paths. */
  paths?: Array<{ id: string; source: PathSource; paths: string[] }>;
  /** What makes the two sides not comparable as they stand (two files measured under different load). */
  warnings?: string[];
  note?: string;
}

/** The `paths` of a comparison: the plan's routes with parameters. */
export function comparedPaths(plan: Plan): NonNullable<ComparisonReport['paths']> {
  return plan.targets.filter((t) => t.source !== 'route').map((t) => ({ id: t.id, source: t.source, paths: t.paths }));
}

const pct = (v: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(1)} %` : 'n/a');
const MARK: Record<Verdict, string> = { regressed: '🔴 regressed', improved: '🟢 improved', unchanged: 'unchanged', inconclusive: '⚪ inconclusive' };

function changeCell(j: Judged): string {
  if (!Number.isFinite(j.delta)) return 'n/a';
  const flag = j.verdict === 'regressed' ? ' ▲' : j.verdict === 'improved' ? ' ▼' : '';
  return `${pct(j.delta)}${flag} [${pct(j.lo)}, ${pct(j.hi)}]`;
}

export function comparisonMarkdown(c: ComparisonReport, title = 'RouteLens performance comparison'): string {
  const regressed = c.routes.filter((r) => r.verdict === 'regressed');
  const how = c.method === 'rounds' ? `${c.rounds} alternating rounds of fresh processes, with an A/A pair` : 'two baseline files';
  const lines = [
    `## ${title}`,
    '',
    regressed.length ? `**${regressed.length} route${regressed.length === 1 ? '' : 's'} slower** beyond ${Math.round(c.threshold * 100)} % on p95: ${regressed.map((r) => `\`${cell(r.id)}\``).join(', ')}` : `No route slower beyond ${Math.round(c.threshold * 100)} % on p95.`,
    '',
    ...(c.warnings ?? []).flatMap((w) => [`**Warning:** ${w}`, '']),
    `Δ head vs base, with a ~95 % interval [low, high]; from ${how}.`,
    '',
    '| Route | p50 | p95 | p99 | Peak req/s | Verdict (p95) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...c.routes.map((r) => `| \`${cell(r.id)}\` | ${METRICS.map((m) => changeCell(r.metrics[m])).join(' | ')} | ${MARK[r.verdict]} |`),
  ];
  if (c.onlyBase.length) lines.push('', `Only in base: ${c.onlyBase.map((x) => `\`${cell(x)}\``).join(', ')}`);
  if (c.onlyHead.length) lines.push('', `Only in head: ${c.onlyHead.map((x) => `\`${cell(x)}\``).join(', ')}`);
  if (c.paths?.length) lines.push('', `Paths of routes with parameters, the same on both sides: ${c.paths.map((x) => `\`${cell(x.id)}\` from ${sourceCell(x)}`).join(', ')}`);
  if (c.note) lines.push('', c.note);
  return `${lines.join('\n')}\n`;
}
