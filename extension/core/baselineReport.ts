/**
 * The comparison with a baseline as a Markdown document (the "Compare with
 * Baseline…" command): per route, the baseline's and the live p95, the
 * change with its 95 % interval, the requests on each side and the verdict.
 * Pure. Agent strings are escaped (markdownText).
 */
import type { BaselineComparison, BaselineDelta, Verdict } from '../../protocol';
import { formatCount, formatMs } from '../../protocol';
import { signedPercent } from './format';
import { markdownText } from './text';

/** Regressions first, then improvements, then the rest; within a verdict the largest change first. */
const ORDER: Record<Verdict, number> = { regressed: 0, improved: 1, unchanged: 2, inconclusive: 3 };

const VERDICT_TEXT: Record<Verdict, string> = {
  regressed: '\u25B2 regressed',
  improved: '\u25BC improved',
  unchanged: 'unchanged (within noise)',
  inconclusive: 'inconclusive',
};

export function sortDeltas(endpoints: readonly BaselineDelta[]): BaselineDelta[] {
  return [...endpoints].sort((a, b) => ORDER[a.verdict] - ORDER[b.verdict] || Math.abs(b.change) - Math.abs(a.change) || (a.endpoint < b.endpoint ? -1 : 1));
}

export interface BaselineReportMeta {
  agent: string;
  generatedAt: string;
}

export function baselineMarkdown(c: BaselineComparison, meta: BaselineReportMeta): string {
  const source = c.source === 'branch' ? `the recent figures of the default branch ${markdownText(c.name, 200)}` : `the saved baseline file ${markdownText(c.name, 500)}`;
  const counts = (Object.keys(ORDER) as Verdict[]).map((v) => `${c.endpoints.filter((d) => d.verdict === v).length} ${v}`);
  const lines = [
    `# RouteLens: live figures vs ${markdownText(c.name, 200)}`,
    '',
    `${markdownText(meta.agent, 200)}, ${markdownText(meta.generatedAt, 40)}. Baseline: ${source}.`,
    '',
    `${counts.join(' · ')}`,
    '',
  ];
  if (!c.endpoints.length) {
    lines.push('No route has figures on both sides yet.', '');
    return lines.join('\n');
  }
  lines.push('| Route | Base p95 | Head p95 | Change (95% interval) | Requests (base / head) | Verdict |', '| --- | ---: | ---: | --- | ---: | --- |');
  for (const d of sortDeltas(c.endpoints)) {
    const change = `${signedPercent(d.change)} (${signedPercent(d.low)} to ${signedPercent(d.high)})`;
    lines.push(`| ${markdownText(d.endpoint, 300)} | ${formatMs(d.base)} | ${formatMs(d.head)} | ${change} | ${formatCount(d.baseCount)} / ${formatCount(d.headCount)} | ${VERDICT_TEXT[d.verdict]} |`);
  }
  lines.push(
    '',
    'A route is regressed or improved only when its p95 changed beyond what the noise of both samples allows;',
    'unchanged when the change is within that noise; inconclusive when there are too few requests or too much noise to tell.',
    '',
  );
  return lines.join('\n');
}
