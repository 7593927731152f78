/** The smoke test's per-route checks and its report (JSON + Markdown). */
import type { GitInfo } from './git';
import type { RouteFigures } from './measure';
import type { PathSource, Plan, Skipped } from './scenario';
import { drivenPaths, skippedMarkdown, sourceCell } from './report';

export interface SmokeLimits {
  /** ms; Infinity = none. */
  maxP95: number;
  /** 0–1. */
  maxErrorRate: number;
}

export interface SmokeRoute {
  id: string;
  count: number;
  status5xx: number;
  errorRate: number;
  p95: number;
  ok: boolean;
  problems: string[];
  /** Where the paths it was driven with came from (see BaselineRoute). */
  source?: PathSource;
  paths?: string[];
}

export interface SmokeReport {
  version: 1;
  app: string;
  createdAt: string;
  git?: GitInfo;
  node: string;
  limits: { maxP95: number | null; maxErrorRate: number };
  passed: boolean;
  routes: SmokeRoute[];
  skipped: Skipped[];
}

export function checkRoute(f: RouteFigures, limits: SmokeLimits): SmokeRoute {
  const problems: string[] = [];
  const errorRate = f.count > 0 ? f.errors / f.count : 0;
  if (f.count === 0) problems.push('no answer recorded');
  if (errorRate > limits.maxErrorRate) problems.push(`${f.status5xx} answer(s) 5xx or failed (${(errorRate * 100).toFixed(1)} % > ${(limits.maxErrorRate * 100).toFixed(1)} %)`);
  if (f.p95 > limits.maxP95) problems.push(`p95 ${f.p95} ms > ${limits.maxP95} ms`);
  return { id: f.id, count: f.count, status5xx: f.status5xx, errorRate: Math.round(errorRate * 10_000) / 10_000, p95: f.p95, ok: problems.length === 0, problems };
}

export function smokeReport(app: string, figures: readonly RouteFigures[], plan: Plan, limits: SmokeLimits, git: GitInfo | undefined): SmokeReport {
  const routes = figures.map((f) => ({ ...checkRoute(f, limits), ...drivenPaths(plan.targets, f.id) }));
  return {
    version: 1,
    app,
    createdAt: new Date().toISOString(),
    ...(git ? { git } : {}),
    node: process.version,
    limits: { maxP95: Number.isFinite(limits.maxP95) ? limits.maxP95 : null, maxErrorRate: limits.maxErrorRate },
    passed: routes.every((r) => r.ok),
    routes,
    skipped: plan.skipped,
  };
}

export function smokeMarkdown(r: SmokeReport): string {
  const failed = r.routes.filter((x) => !x.ok);
  const lines = [
    `## RouteLens smoke test: ${r.app}: ${r.passed ? 'passed' : `${failed.length} route(s) failed`}`,
    '',
    `Limits: p95 ≤ ${r.limits.maxP95 === null ? '(none)' : `${r.limits.maxP95} ms`}, 5xx ≤ ${(r.limits.maxErrorRate * 100).toFixed(1)} %`,
    '',
    '| Route | Requests | 5xx rate | p95 ms | Result | Paths from |',
    '| --- | ---: | ---: | ---: | --- | --- |',
    ...r.routes.map((x) => `| \`${x.id.replace(/\|/g, '\\|')}\` | ${x.count} | ${(x.errorRate * 100).toFixed(1)} % | ${x.p95} | ${x.ok ? 'ok' : `**failed**: ${x.problems.join('; ')}`} | ${sourceCell(x)} |`),
    ...skippedMarkdown(r.skipped),
  ];
  return `${lines.join('\n')}\n`;
}
