/**
 * Two rules on slowness besides the route p95 (rules.ts):
 *
 *  route-avg      per route: the 1m average latency against `avgMs`. The p95
 *                 says what the slowest requests see; the average moves when
 *                 a route is slower for everyone, and is what most dashboards
 *                 of the systems RouteLens replaces alerted on.
 *  slow-requests  process-wide: how many HTTP requests took `slowMs.info` or
 *                 more (the slow log's entries) in the 1m window, against
 *                 `slowPerMinute`. Process-wide on purpose: a volume of slow
 *                 requests spread over many routes is what no per-route rule
 *                 sees; one slow route already has route-p95 and route-avg.
 *
 * Both are critical at twice their threshold.
 */
import type { Thresholds } from '../../protocol';
import type { AlertEndpoint } from '../internal';
import { ms, short } from './format';
import { type Check, type Level, type RuleOptions, higherIsWorse } from './rules';

type Over = (value: number, threshold: number, critical: number) => Level;

/** One route-avg check per route with enough requests in the 1m window (the p95 rule's minimum); never the overflow bucket. */
export function routeAverageChecks(endpoints: readonly AlertEndpoint[], thresholds: Thresholds, options: RuleOptions, out: Check[]): void {
  const { avgMs } = thresholds;
  const over: Over = (value, threshold, critical) => higherIsWorse(value, threshold, critical, options.clearMargin);
  for (const endpoint of endpoints) {
    if (endpoint.kind === 'overflow') continue;
    const lastMinute = endpoint.windows['1m'];
    if (lastMinute.count < options.policies['route-avg'].minSamples) continue;
    const { id } = endpoint;
    const { avg, count } = lastMinute;
    out.push({
      rule: 'route-avg',
      target: id,
      level: over(avg, avgMs, 2 * avgMs),
      value: avg,
      threshold: avgMs,
      message: () => `${short(id)} average ${ms(avg)} ≥ ${ms(avgMs)} (${count} requests in 1m)`,
      location: endpoint.handlerLocation ?? endpoint.location,
    });
  }
}

/** The slow-requests check of the process, when the count is known. */
export function slowRequestsCheck(slowLastMinute: number | undefined, thresholds: Thresholds, options: RuleOptions, out: Check[]): void {
  if (slowLastMinute === undefined) return;
  const { slowPerMinute } = thresholds;
  const slowFrom = thresholds.slowMs.info;
  out.push({
    rule: 'slow-requests',
    target: 'process',
    level: higherIsWorse(slowLastMinute, slowPerMinute, 2 * slowPerMinute, options.clearMargin),
    value: slowLastMinute,
    threshold: slowPerMinute,
    message: () => `${slowLastMinute} slow requests (≥ ${ms(slowFrom)}) in 1m ≥ ${slowPerMinute}`,
  });
}
