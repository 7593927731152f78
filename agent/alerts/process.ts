/**
 * Four rules besides the route and system ones of rules.ts:
 *
 *  cpu               process CPU (percent of one core) against `cpuPercent`,
 *                    sustained (policy.ts: 30 evaluations); critical at 1.5×.
 *  error-rate-spike  the process's 1m error rate against its own baseline
 *                    (an EWMA over evaluations): a spike at `errorSpikeFactor`
 *                    times the usual rate, and at least ERROR_SPIKE_FLOOR.
 *  memory-growth     heap used against the process's own usual heap (a slow
 *                    EWMA): growth at `memoryGrowthFactor` times it, and at
 *                    least MEMORY_GROWTH_FLOOR_BYTES more.
 *  slow-query        per route: a database, Redis, outbound HTTP or custom span
 *                    of `slowQueryMs` or more in the last minute (from the
 *                    findings: AlertInputs.slowQueries); fires at once,
 *                    resolves once a minute passes without one.
 *
 * Both baselines learn only after `baselineWarmup` evaluations (their mean until
 * then) and barely move while their rule is over the threshold, so a spike or
 * a leak does not teach itself to be normal.
 */
import type { Thresholds } from '../../protocol';
import type { AlertEndpoint, AlertInputs } from '../internal';
import { mib, ms, pct, short } from './format';
import { type Check, Level, type RuleOptions, higherIsWorse } from './rules';

/** A spike needs at least this error rate (a process that never fails and fails once in 200 is not spiking). */
export const ERROR_SPIKE_FLOOR = 0.01;
/** Memory growth needs at least this many bytes over the baseline. */
export const MEMORY_GROWTH_FLOOR_BYTES = 64 * 1024 * 1024;
/** Learning rates after the warm-up: normal, and while the rule is over its threshold. */
const ERROR_ALPHA = 0.02;
const MEMORY_ALPHA = 0.002;
const ANOMALOUS_ALPHA = 0.0005;

/** A figure's usual level: the mean of the first readings, then an EWMA. */
class Baseline {
  value = 0;
  samples = 0;

  constructor(private readonly alpha: number) {}

  warm(warmup: number): boolean {
    return this.samples >= warmup;
  }

  learn(value: number, anomalous: boolean): void {
    const alpha = anomalous ? ANOMALOUS_ALPHA : Math.max(this.alpha, 1 / (this.samples + 1));
    this.value += alpha * (value - this.value);
    this.samples++;
  }
}

/** The process's own baselines, and the checks of this file's rules. */
export class ProcessRules {
  private readonly errors = new Baseline(ERROR_ALPHA);
  private readonly heap = new Baseline(MEMORY_ALPHA);

  constructor(private readonly options: RuleOptions) {}

  checks(inputs: AlertInputs, thresholds: Thresholds, out: Check[]): void {
    this.cpu(inputs.system.cpuPercent, thresholds, out);
    this.errorSpike(inputs.endpoints, thresholds, out);
    this.memory(inputs.system.heapUsed, thresholds, out);
    slowQueryChecks(inputs.slowQueries, thresholds, this.options, out);
  }

  private over(value: number, threshold: number, critical: number): Level {
    return higherIsWorse(value, threshold, critical, this.options.clearMargin);
  }

  private cpu(cpu: number, thresholds: Thresholds, out: Check[]): void {
    if (!Number.isFinite(cpu)) return;
    const { cpuPercent } = thresholds;
    out.push({
      rule: 'cpu',
      target: 'process',
      level: this.over(cpu, cpuPercent, 1.5 * cpuPercent),
      value: cpu,
      threshold: cpuPercent,
      message: () => `process CPU ${Math.round(cpu)}% of a core ≥ ${Math.round(cpuPercent)}%`,
    });
  }

  private errorSpike(endpoints: readonly AlertEndpoint[], thresholds: Thresholds, out: Check[]): void {
    let count = 0;
    let errors = 0;
    for (const endpoint of endpoints) {
      if (endpoint.kind === 'custom') continue;
      count += endpoint.windows['1m'].count;
      errors += endpoint.windows['1m'].errors;
    }
    if (count < this.options.policies['error-rate-spike'].minSamples) return;
    const rate = errors / count;
    const baseline = this.errors;
    let level: Level = Level.Clear;
    if (baseline.warm(this.options.baselineWarmup)) {
      const usual = baseline.value;
      const threshold = Math.max(ERROR_SPIKE_FLOOR, thresholds.errorSpikeFactor * usual);
      level = this.over(rate, threshold, Math.min(1, 2 * threshold));
      out.push({
        rule: 'error-rate-spike',
        target: 'process',
        level,
        value: rate,
        threshold,
        message: () => `error rate ${pct(rate)} is ${usual > 0 ? `${(rate / usual).toFixed(1)}× ` : 'above '}the process's usual ${pct(usual)} (${errors} of ${count} in 1m)`,
      });
    }
    baseline.learn(rate, level >= Level.Over);
  }

  private memory(heapUsed: number, thresholds: Thresholds, out: Check[]): void {
    if (!(heapUsed > 0)) return;
    const baseline = this.heap;
    let level: Level = Level.Clear;
    if (baseline.warm(this.options.baselineWarmup)) {
      const usual = baseline.value;
      const threshold = Math.max(usual + MEMORY_GROWTH_FLOOR_BYTES, thresholds.memoryGrowthFactor * usual);
      level = this.over(heapUsed, threshold, 2 * threshold);
      out.push({
        rule: 'memory-growth',
        target: 'process',
        level,
        value: heapUsed,
        threshold,
        message: () => `heap ${mib(heapUsed)} is ${(heapUsed / usual).toFixed(1)}× the process's usual ${mib(usual)}`,
      });
    }
    baseline.learn(heapUsed, level >= Level.Over);
  }
}

/** One slow-query check per route with a slow query in the last minute; a route without one has no check and clears. */
function slowQueryChecks(slowQueries: AlertInputs['slowQueries'], thresholds: Thresholds, options: RuleOptions, out: Check[]): void {
  if (slowQueries === undefined) return;
  const { slowQueryMs } = thresholds;
  for (const q of slowQueries) {
    out.push({
      rule: 'slow-query',
      target: q.endpoint,
      level: higherIsWorse(q.maxMs, slowQueryMs, 2 * slowQueryMs, options.clearMargin),
      value: q.maxMs,
      threshold: slowQueryMs,
      message: () => `${short(q.endpoint)}: ${short(q.name)} took ${ms(q.maxMs)} ≥ ${ms(slowQueryMs)} (${q.count} slow in 1m)`,
      ...(q.location ? { location: q.location } : {}),
    });
  }
}
