/** The report exporter: JSON and Markdown from a Snapshot, each opening with the executive summary (cli/core/summary.ts). Pure. */
import { MISSING, type Snapshot, formatBytes, formatCount, formatMs, formatPercent, formatRate, formatUptime, snapshotOf } from '../../protocol';
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
  lines.push(`| requests/s | ${formatRate(s.requestsPerSecond)} |`);
  lines.push(`| error rate | ${formatPercent(s.errorRate)} |`);
  lines.push(`| heap used | ${formatBytes(s.heapUsed)} of ${formatBytes(s.heapLimit)} |`);
  lines.push(`| rss | ${formatBytes(s.rss)} |`);
  lines.push(`| event loop p99 | ${formatMs(s.eventLoop.delayP99)} |`);
  lines.push(`| cpu | ${formatPercent(s.cpuPercent / 100)} of one core |`);
  lines.push(`| uptime | ${formatUptime(s.uptime)} |`, '');

  lines.push('## Endpoints', '');
  const endpoints = [...snapshot.endpoints].sort((a, b) => b.p95 - a.p95 || b.count - a.count);
  if (!endpoints.length) lines.push('No endpoints recorded.', '');
  else {
    lines.push('| endpoint | requests | req/s | p50 | p95 | p99 | max | errors |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const e of endpoints) {
      const has = e.count > 0;
      lines.push(
        `| ${t(e.id)} | ${formatCount(e.count)} | ${formatRate(e.rate)} | ${has ? formatMs(e.p50) : MISSING} | ${has ? formatMs(e.p95) : MISSING} | ${has ? formatMs(e.p99) : MISSING} | ${has ? formatMs(e.max) : MISSING} | ${formatPercent(e.count ? e.errors / e.count : 0)} |`,
      );
    }
    lines.push('');
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
