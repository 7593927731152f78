/** The executive summary as Markdown, for a pull request or a chat. Every app-controlled string is escaped. */
import { formatCount, formatMs } from '../../protocol/format';
import { markdownText } from '../../extension/core/text';
import type { ExecutiveSummary } from './summary';

/** `level` 1 for a document of its own (`routelens report`), 2 inside a longer report. */
export function summaryMarkdown(summary: ExecutiveSummary, level: 1 | 2 = 1): string {
  const t = markdownText;
  const h = '#'.repeat(level);
  const m = summary.metrics;
  const lines: string[] = [];
  lines.push(`${h} Executive summary: ${t(summary.agent.name)}`, '');
  if (level === 1) lines.push(`Generated ${t(summary.generatedAt)}; agent ${t(summary.agent.version)}, pid ${summary.agent.pid}, Node ${t(summary.agent.nodeVersion)}, up ${formatCount(summary.agent.uptimeSeconds)} s.`, '');
  lines.push(`**Status:** ${summary.status}, health score ${summary.score}/100${summary.reasons.length ? ` \u2014 ${summary.reasons.map((r) => t(r)).join('; ')}` : ''}`, '');
  lines.push('| key metric | value |', '| --- | --- |');
  lines.push(`| requests | ${formatCount(m.requestsTotal)} in all, ${formatCount(m.requestsLast5m)} in the last 5 min, ${m.requestsPerSecond}/s |`);
  const p95 = m.p95.slowestRoute ? `slowest route ${t(m.p95.slowestRoute)}: ${formatMs(m.p95.slowestRouteP95Ms)}` : 'no requests in the last 5 min';
  lines.push(`| p95 (5 min) | ${p95}${m.p95.allRequestsP95AtMostMs !== null ? `; all requests \u2264 ${formatMs(m.p95.allRequestsP95AtMostMs)}` : ''} |`);
  lines.push(`| error rate (1 min) | ${m.errorRatePercent}% (${formatCount(m.errorsTotal)} errors in all) |`);
  lines.push(`| cache hit rate | ${m.cache ? `${m.cache.hitRatePercent}% (last minute ${m.cache.hitRateLast1mPercent}%)` : 'no cache'} |`);
  lines.push(`| Redis | ${m.cache ? m.cache.redis : 'no cache'} |`);
  lines.push(`| heap / event loop p99 / CPU | ${m.heapUsedPercent}% of limit / ${formatMs(m.eventLoopDelayP99Ms)} / ${m.cpuPercent}% |`, '');
  lines.push(`${h}# Firing alerts (${summary.alertsFiring})`, '');
  if (!summary.alerts.length) lines.push('None.', '');
  else {
    for (const a of summary.alerts) lines.push(`- **${a.severity}** ${a.rule} on ${t(a.target)}: ${t(a.message)}`);
    lines.push('');
  }
  if (summary.slowestRoutes.length) {
    lines.push(`${h}# Slowest routes (5 min)`, '');
    lines.push('| route | requests | p95 | errors | source |', '| --- | ---: | ---: | ---: | --- |');
    for (const r of summary.slowestRoutes) lines.push(`| ${t(r.route)} | ${formatCount(r.requests)} | ${formatMs(r.p95Ms)} | ${r.errorRatePercent}% | ${r.location ? t(r.location) : '\u2014'} |`);
    lines.push('');
  }
  if (summary.topFindings.length) {
    lines.push(`${h}# Top findings`, '');
    for (const f of summary.topFindings) lines.push(`- **${f.severity}** ${f.kind} on ${t(f.route)} (${t(f.location)}): ${t(f.message)} ${t(f.recommendation)}`);
    lines.push('');
  }
  lines.push(`${h}# Recommendations`, '');
  summary.recommendations.forEach((r, i) => lines.push(`${i + 1}. **${r.priority}**${r.route ? ` ${t(r.route)}` : ''}: ${t(r.text)}${r.location ? ` (${t(r.location)})` : ''}`));
  lines.push('');
  return `${lines.join('\n')}\n`;
}
