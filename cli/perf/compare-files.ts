/** `routelens compare base.json head.json`: per route, each quantile's change with the interval its two sketches allow. */
import { type BaselineReport, type BaselineSettings, METRICS, type ComparisonReport, type Metric, type RouteComparison } from './report';
import { readSketch } from '../../agent/metrics/sketch';
import { quantileOf } from './sketch';
import { judge, rateInterval, ratioChange } from './stats';

const QUANTILES: Record<Exclude<Metric, 'rps'>, number> = { p50: 0.5, p95: 0.95, p99: 0.99 };

export function compareFiles(base: BaselineReport, head: BaselineReport, threshold: number): ComparisonReport {
  const baseById = new Map(base.routes.map((r) => [r.id, r]));
  const headIds = new Set(head.routes.map((r) => r.id));
  const routes: RouteComparison[] = [];
  for (const h of [...head.routes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const b = baseById.get(h.id);
    if (!b || b.count === 0 || h.count === 0) continue;
    const bs = readSketch(b.sketch);
    const hs = readSketch(h.sketch);
    const metrics = {} as RouteComparison['metrics'];
    for (const m of METRICS) {
      if (m === 'rps') {
        const bp = base.settings?.peakSeconds ?? 0;
        const hp = head.settings?.peakSeconds ?? 0;
        const change = bp > 0 && hp > 0 && b.rps > 0 ? ratioChange(rateInterval(b.rps * bp, bp), rateInterval(h.rps * hp, hp)) : { delta: NaN, lo: NaN, hi: NaN };
        metrics.rps = judge(change, threshold, 0, true);
      } else metrics[m] = judge(ratioChange(quantileOf(bs, QUANTILES[m]), quantileOf(hs, QUANTILES[m])), threshold);
    }
    routes.push({ id: h.id, verdict: metrics.p95.verdict, metrics });
  }
  const warnings = loadDifferences(base.settings, head.settings);
  return {
    threshold,
    method: 'files',
    ...(warnings.length ? { warnings } : {}),
    routes,
    onlyBase: base.routes.filter((r) => !headIds.has(r.id)).map((r) => r.id).sort(),
    onlyHead: head.routes.filter((r) => !baseById.has(r.id)).map((r) => r.id).sort(),
    note: 'Intervals from two single runs cover the sampling noise of each run, not the run-to-run noise of the machine: for a verdict on a noisy machine, use `routelens compare --cmd … --base <ref>` (alternating rounds with an A/A pair).',
  };
}

const describeLoad = (s: BaselineSettings | undefined): string =>
  s === undefined ? 'unknown load' : `${s.rate} req/s for ${s.seconds} s${s.pacing === 'open-loop' ? '' : ', paced in bursts by an earlier routelens'}`;

/**
 * Why the two files' latencies may differ by their load rather than their code: a different paced
 * rate or phase, or pacing (a file from before open-loop pacing has each second's requests in a
 * burst, whose queueing is in its figures).
 */
function loadDifferences(base: BaselineSettings | undefined, head: BaselineSettings | undefined): string[] {
  if (base?.rate === head?.rate && base?.seconds === head?.seconds && base?.pacing === head?.pacing) return [];
  return [`the two files were measured under different load (base: ${describeLoad(base)}; head: ${describeLoad(head)}), so a change below may be the load's, not the code's: measure both with the same settings and this version.`];
}
