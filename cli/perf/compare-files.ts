/** `routelens compare base.json head.json`: per route, each quantile's change with the interval its two sketches allow. */
import { type BaselineReport, METRICS, type ComparisonReport, type Metric, type RouteComparison } from './report';
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
  return {
    threshold,
    method: 'files',
    routes,
    onlyBase: base.routes.filter((r) => !headIds.has(r.id)).map((r) => r.id).sort(),
    onlyHead: head.routes.filter((r) => !baseById.has(r.id)).map((r) => r.id).sort(),
    note: 'Intervals from two single runs cover the sampling noise of each run, not the run-to-run noise of the machine: for a verdict on a noisy machine, use `routelens compare --cmd … --base <ref>` (alternating rounds with an A/A pair).',
  };
}
