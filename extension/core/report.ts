/**
 * The report exporter: JSON and Markdown from a Snapshot, each opening with
 * the executive summary (cli/core/summary.ts). Pure. The Markdown
 * says which window each figure covers; percentiles follow the same rule as
 * the lens and the dashboard (`percentileFigure`), a dash with its reason
 * written under the table since Markdown has no tooltip.
 */
import { type EndpointStats, MISSING, PERCENTILE_MIN_COUNT, type Snapshot, formatBytes, formatCount, formatMs, formatPercent, formatRate, formatUptime, percentileFigure, snapshotOf } from '../../protocol';
import { buildSummary } from '../../cli/core/summary';
import { summaryMarkdown } from '../../cli/core/summaryMarkdown';
import { markdownText } from './text';

export interface ReportMeta {
  /** ISO time the report was made. */
  generatedAt: string;
  extensionVersion: string;
}

export function reportJson(snapshot: Snapshot, meta: ReportMeta): string {
  return `${JSON.stringify({ routelensReport: 1, ...meta, summary: buildSummary(snapshot, reportTime(meta)), snapshot: snapshotOf(snapshot) }, null, 2)}\n`;
}

function reportTime(meta: ReportMeta): number {
  const t = Date.parse(meta.generatedAt);
  return Number.isFinite(t) ? t : Date.now();
}

/** A file name safe on every OS: `routelens-<app>-<time>`. */
export function reportBaseName(snapshot: Snapshot, when: Date): string {
  const app = snapshot.agent.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/\.{2,}/g, '.').replace(/^[.-]+/, '').slice(0, 60) || 'app';
  return `routelens-${app}-${when.toISOString().replace(/[:.]/g, '-')}`;
}

export function reportMarkdown(snapshot: Snapshot, meta: ReportMeta): string {
  const t = markdownText;
  const s = snapshot.system;
  const lines: string[] = [];
  lines.push(`# RouteLens report: ${t(snapshot.agent.name)}`, '');
  lines.push(`Generated ${t(meta.generatedAt)} by RouteLens ${t(meta.extensionVersion)}; agent ${t(snapshot.agent.version)}, pid ${snapshot.agent.pid}, Node ${t(s.nodeVersion)}.`, '');
  lines.push(summaryMarkdown(buildSummary(snapshot, reportTime(meta)), 2));
  lines.push(`**Health:** ${t(snapshot.health.status)} (${snapshot.health.score}/100)${snapshot.health.reasons.length ? ` \u2014 ${snapshot.health.reasons.map((r) => t(r)).join('; ')}` : ''}`, '');
  lines.push('## System', '');
  lines.push('| metric | value |', '| --- | --- |');
  lines.push(`| requests/s (last minute) | ${formatRate(s.requestsPerSecond)} |`);
  lines.push(`| error rate (last minute) | ${formatPercent(s.errorRate)} |`);
  lines.push(`| heap used | ${formatBytes(s.heapUsed)} of ${formatBytes(s.heapLimit)} |`);
  lines.push(`| rss | ${formatBytes(s.rss)} |`);
  lines.push(`| event loop p99 | ${formatMs(s.eventLoop.delayP99)} |`);
  lines.push(`| cpu | ${formatPercent(s.cpuPercent / 100)} of one core |`);
  lines.push(`| uptime | ${formatUptime(s.uptime)} |`, '');

  lines.push('## Endpoints', '');
  const endpoints = [...snapshot.endpoints].sort(slowestFirst);
  if (!endpoints.length) lines.push('No endpoints recorded.', '');
  else {
    lines.push('Since start (or the last reset), except req/s (last minute). Slowest p95 first.', '');
    lines.push('| endpoint | requests | req/s | p50 | p95 | p99 | max | errors | 4xx |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const e of endpoints) {
      const has = e.count > 0;
      const p = (which: 'p50' | 'p95' | 'p99') => percentileFigure(which, e, 'all').text;
      const share = (n: number | undefined) => formatPercent(has ? (n ?? 0) / e.count : 0);
      lines.push(`| ${t(e.id)} | ${formatCount(e.count)} | ${formatRate(e.rate)} | ${p('p50')} | ${p('p95')} | ${p('p99')} | ${has ? formatMs(e.max) : MISSING} | ${share(e.errors)} | ${share(e.statusCodes['4xx'])} |`);
    }
    const { p50, p95, p99 } = PERCENTILE_MIN_COUNT;
    lines.push('', `${MISSING} in p50, p95, p99: too few requests for that percentile to differ from its neighbours (p50 needs ${p50}, p95 ${p95}, p99 ${p99}). errors: responses ≥ 500 and requests that failed without one; 4xx: share of requests answered 4xx.`, '');
  }

  lines.push('## Alerts', '');
  if (!snapshot.alerts.length) lines.push('No firing alerts.', '');
  else {
    lines.push('| severity | rule | target | message |', '| --- | --- | --- | --- |');
    for (const a of snapshot.alerts) lines.push(`| ${t(a.severity)} | ${t(a.rule)} | ${t(a.target)} | ${t(a.message)} |`);
    lines.push('');
  }

  if (snapshot.cache) {
    const c = snapshot.cache;
    lines.push('## Cache', '');
    lines.push(`Hit rate ${formatPercent(c.overall.hitRate)} (${formatCount(c.overall.hits)} hits, ${formatCount(c.overall.misses)} misses); L1 ${formatCount(c.l1.entries)} entries, ${formatBytes(c.l1.bytes)}; Redis ${t(c.redis)}.`, '');
    if (c.namespaces.length) {
      lines.push('| namespace | entries | hit rate |', '| --- | ---: | ---: |');
      for (const n of c.namespaces) lines.push(`| ${t(n.namespace || '(default)')} | ${formatCount(n.entries)} | ${formatPercent(n.hitRate)} |`);
      lines.push('');
    }
  }

  if (snapshot.rateLimits.length) {
    lines.push('## Rate limits', '');
    lines.push('| limiter | algorithm | max / window | allowed | limited |', '| --- | --- | --- | ---: | ---: |');
    for (const r of snapshot.rateLimits) lines.push(`| ${t(r.name)} | ${t(r.algorithm)} | ${r.max} / ${formatMs(r.windowMs)} | ${formatCount(r.allowed)} | ${formatCount(r.limited)} |`);
    lines.push('');
  }

  if (snapshot.slowRequests.length) {
    lines.push('## Slowest recent requests', '');
    lines.push('| time | request | status | duration |', '| --- | --- | ---: | ---: |');
    for (const r of [...snapshot.slowRequests].sort((a, b) => b.duration - a.duration).slice(0, 20)) {
      lines.push(`| ${new Date(r.time).toISOString()} | ${t(`${r.method} ${r.path}`)} | ${r.status} | ${formatMs(r.duration)} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

/** Endpoints whose p95 is shown first, slowest first; then the others, most requested first. */
function slowestFirst(a: EndpointStats, b: EndpointStats): number {
  const pa = percentileFigure('p95', a, 'all').shown;
  const pb = percentileFigure('p95', b, 'all').shown;
  if (pa !== pb) return pa ? -1 : 1;
  return (pa ? b.p95 - a.p95 : 0) || b.count - a.count;
}
