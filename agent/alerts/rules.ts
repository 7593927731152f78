/**
 * The alert rules: what each one reads of the inputs, and the level it gives
 * each target in one evaluation. Pure apart from the routes' learned latency
 * baselines (LatencyBaselines), which every evaluation updates.
 */
import type { AlertRule, SourceLocation, Thresholds } from '../../protocol';
import type { AlertEndpoint, AlertInputs } from '../internal';
import { mib, ms, pct, short } from './format';
import type { RulePolicies } from './policy';
import { ProcessRules } from './process';
import { routeAverageChecks, slowRequestsCheck } from './slowness';

/** The rules' opinion of one target in one evaluation: clear (under the threshold by the margin), between (within the margin), over (warning) or critical. */
export const Level = { Clear: 0, Between: 1, Over: 2, Critical: 3 } as const;
export type Level = (typeof Level)[keyof typeof Level];

export interface Check {
  rule: AlertRule;
  target: string;
  level: Level;
  value: number;
  threshold: number;
  /** Made only when an alert (or a pending one) shows it: most checks are healthy. */
  message: () => string;
  location?: SourceLocation;
}

/** For figures where more is worse (latency, error rate): clear only `margin` (a share of the threshold) below it. */
export function higherIsWorse(value: number, threshold: number, critical: number, margin: number): Level {
  if (value >= critical) return Level.Critical;
  if (value >= threshold) return Level.Over;
  if (value >= threshold * (1 - margin)) return Level.Between;
  return Level.Clear;
}

/** For fractions where less is worse (hit rate): clear only `margin` of the way from the threshold to 1. */
export function lowerIsWorse(value: number, threshold: number, critical: number, margin: number): Level {
  if (value < critical) return Level.Critical;
  if (value < threshold) return Level.Over;
  if (value < threshold + (1 - threshold) * margin) return Level.Between;
  return Level.Clear;
}

/**
 * A route's error rate is critical at this many times `errorRate` (25% by default: one request in four
 * fails); the whole process's at twice it. One flaky route harms its own callers; an app failing
 * across its routes harms everyone.
 */
export const ROUTE_CRITICAL_ERROR_FACTOR = 5;
const PROCESS_CRITICAL_ERROR_FACTOR = 2;

export interface RuleOptions {
  /** Resolve only this share past the threshold on the good side. */
  clearMargin: number;
  /** Per rule: samples needed, and the most severe level (policy.ts). */
  policies: RulePolicies;
  /** Evaluations with enough samples before a route's latency baseline is trusted. */
  baselineWarmup: number;
  /** A latency anomaly also needs the p95 above this many ms. */
  anomalyFloorMs: number;
}

interface Baseline {
  value: number;
  samples: number;
}

const EWMA_ALPHA = 0.1;
/**
 * While a route is anomalous its baseline barely moves (~500 evaluations to adopt a new level), so the anomaly
 * does not teach itself to be normal. Resolving the alert by hand relearns the baseline from scratch.
 */
const EWMA_ALPHA_ANOMALOUS = 0.002;

/** Each route's usual p95 (an EWMA over evaluations), and the latency-anomaly rule against it. */
export class LatencyBaselines {
  private readonly byEndpoint = new Map<string, Baseline>();

  constructor(private readonly options: RuleOptions) {}

  /** The route's p95 against its baseline (undefined while warming up); learns from this evaluation afterwards. */
  check(endpointId: string, p95: number, factor: number, location: SourceLocation | undefined): Check | undefined {
    let baseline = this.byEndpoint.get(endpointId);
    if (baseline === undefined) this.byEndpoint.set(endpointId, (baseline = { value: p95, samples: 0 }));
    let check: Check | undefined;
    let level: Level = Level.Clear;
    if (baseline.samples >= this.options.baselineWarmup && baseline.value > 0) {
      const threshold = factor * baseline.value;
      const usual = baseline.value; // the message is made later, after this evaluation has moved the baseline
      level = p95 < this.options.anomalyFloorMs ? Level.Clear : higherIsWorse(p95, threshold, 2 * threshold, this.options.clearMargin);
      check = {
        rule: 'latency-anomaly',
        target: endpointId,
        level,
        value: p95,
        threshold,
        message: () => `${short(endpointId)} p95 ${ms(p95)} is ${(p95 / usual).toFixed(1)}× its usual ${ms(usual)}`,
        location,
      };
    }
    const alpha = level >= Level.Over ? EWMA_ALPHA_ANOMALOUS : Math.max(EWMA_ALPHA, 1 / (baseline.samples + 1));
    baseline.value += alpha * (p95 - baseline.value);
    baseline.samples++;
    return check;
  }

  /** Drops the baselines of endpoints that are gone. */
  retainOnly(liveIds: ReadonlySet<string>): void {
    for (const id of this.byEndpoint.keys()) if (!liveIds.has(id)) this.byEndpoint.delete(id);
  }

  /** "This is normal now": the route's next figures start a new baseline. */
  forget(endpointId: string): void {
    this.byEndpoint.delete(endpointId);
  }
}

/** Every rule over one evaluation's inputs. */
export class Rules {
  readonly baselines: LatencyBaselines;
  private readonly process: ProcessRules;

  constructor(private readonly options: RuleOptions) {
    this.baselines = new LatencyBaselines(options);
    this.process = new ProcessRules(options);
  }

  /** The checks of one evaluation: routes, the process, the cache, the limiters, the slowness rules (slowness.ts), then CPU, the process's baselines and slow queries (process.ts). */
  checks(inputs: AlertInputs, thresholds: Thresholds): Check[] {
    const out: Check[] = [];
    this.routes(inputs.endpoints, thresholds, out);
    this.system(inputs.system, thresholds, out);
    if (inputs.cache?.enabled === true) this.cache(inputs.cache, thresholds, out);
    this.rateLimits(inputs.rateLimits, thresholds, out);
    routeAverageChecks(inputs.endpoints, thresholds, this.options, out);
    slowRequestsCheck(inputs.slowLastMinute, thresholds, this.options, out);
    this.process.checks(inputs, thresholds, out);
    for (const check of out) {
      if (check.level === Level.Critical && this.options.policies[check.rule].maxSeverity !== 'critical') check.level = Level.Over;
    }
    return out;
  }

  private over(value: number, threshold: number, critical: number): Level {
    return higherIsWorse(value, threshold, critical, this.options.clearMargin);
  }

  /** Per route: p95, latency anomaly, error rate; then the error rate across all routes. */
  private routes(endpoints: readonly AlertEndpoint[], thresholds: Thresholds, out: Check[]): void {
    const { policies } = this.options;
    const minErrorSamples = policies['error-rate'].minSamples;
    let processCount = 0;
    let processErrors = 0;
    const liveIds = new Set<string>();
    for (const endpoint of endpoints) {
      const lastMinute = endpoint.windows['1m'];
      if (endpoint.kind !== 'custom') {
        processCount += lastMinute.count;
        processErrors += lastMinute.errors;
      }
      if (endpoint.kind === 'overflow') continue; // counted process-wide, never a target of its own
      const id = endpoint.id;
      liveIds.add(id);
      const location = endpoint.handlerLocation ?? endpoint.location;
      const p95 = lastMinute.p95;
      if (lastMinute.count >= policies['route-p95'].minSamples) {
        out.push({
          rule: 'route-p95',
          target: id,
          level: this.over(p95, thresholds.p95Ms, 2 * thresholds.p95Ms),
          value: p95,
          threshold: thresholds.p95Ms,
          message: () => `${short(id)} p95 ${ms(p95)} ≥ ${ms(thresholds.p95Ms)}`,
          location,
        });
      }
      if (lastMinute.count >= policies['latency-anomaly'].minSamples) {
        const anomaly = this.baselines.check(id, p95, thresholds.anomalyFactor, location);
        if (anomaly !== undefined) out.push(anomaly);
      }
      if (lastMinute.count >= minErrorSamples) {
        const { errors, count } = lastMinute;
        const rate = errors / count;
        out.push({
          rule: 'error-rate',
          target: id,
          level: this.over(rate, thresholds.errorRate, Math.min(1, ROUTE_CRITICAL_ERROR_FACTOR * thresholds.errorRate)),
          value: rate,
          threshold: thresholds.errorRate,
          message: () => `${short(id)} error rate ${pct(rate)} ≥ ${pct(thresholds.errorRate)} (${errors} of ${count} in 1m)`,
          location,
        });
      }
    }
    this.baselines.retainOnly(liveIds);
    if (processCount >= minErrorSamples) {
      const rate = processErrors / processCount;
      out.push({
        rule: 'error-rate',
        target: 'process',
        level: this.over(rate, thresholds.errorRate, Math.min(1, PROCESS_CRITICAL_ERROR_FACTOR * thresholds.errorRate)),
        value: rate,
        threshold: thresholds.errorRate,
        message: () => `error rate ${pct(rate)} ≥ ${pct(thresholds.errorRate)} across all routes (${processErrors} of ${processCount} in 1m)`,
      });
    }
  }

  /** Heap share of its limit, event-loop delay. */
  private system(system: AlertInputs['system'], thresholds: Thresholds, out: Check[]): void {
    if (system.heapLimit > 0) {
      const share = system.heapUsed / system.heapLimit;
      const { heapPercent } = thresholds;
      out.push({
        rule: 'heap',
        target: 'process',
        level: this.over(share, heapPercent, heapPercent + (1 - heapPercent) / 2),
        value: share,
        threshold: heapPercent,
        message: () => `heap ${pct(share)} of its limit ≥ ${pct(heapPercent)} (${mib(system.heapUsed)} of ${mib(system.heapLimit)})`,
      });
    }
    const delay = system.eventLoop.delayP99;
    out.push({
      rule: 'event-loop-delay',
      target: 'process',
      level: this.over(delay, thresholds.eventLoopDelayMs, 2 * thresholds.eventLoopDelayMs),
      value: delay,
      threshold: thresholds.eventLoopDelayMs,
      message: () => `event-loop delay p99 ${ms(delay)} ≥ ${ms(thresholds.eventLoopDelayMs)}`,
    });
  }

  /** Hit rate over the last minute; Redis up, connecting or down. */
  private cache(cache: NonNullable<AlertInputs['cache']>, thresholds: Thresholds, out: Check[]): void {
    const reads = cache.window.hits + cache.window.misses;
    if (reads >= this.options.policies['cache-hit-rate'].minSamples) {
      const rate = cache.window.hitRate;
      out.push({
        rule: 'cache-hit-rate',
        target: 'cache',
        level: lowerIsWorse(rate, thresholds.cacheHitRate, thresholds.cacheHitRate / 2, this.options.clearMargin),
        value: rate,
        threshold: thresholds.cacheHitRate,
        message: () => `cache hit rate ${pct(rate)} < ${pct(thresholds.cacheHitRate)} (${reads} reads in 1m)`,
      });
    }
    if (cache.redis !== 'none') {
      out.push({
        rule: 'redis',
        target: 'redis',
        level: cache.redis === 'down' ? Level.Over : cache.redis === 'connecting' ? Level.Between : Level.Clear,
        value: cache.redis === 'down' ? 1 : 0,
        threshold: 1,
        message: () => 'Redis is down: the cache serves from memory (L1) only',
      });
    }
  }

  /** The share of each limiter's requests it refused in the last minute. */
  private rateLimits(limiters: AlertInputs['rateLimits'], thresholds: Thresholds, out: Check[]): void {
    const { rateLimitedShare } = thresholds;
    for (const limiter of limiters) {
      const { allowed, limited } = limiter.window;
      const total = allowed + limited;
      if (total < this.options.policies['rate-limited'].minSamples) continue;
      const share = limited / total;
      out.push({
        rule: 'rate-limited',
        target: limiter.name,
        level: this.over(share, rateLimitedShare, Math.min(1, 2 * rateLimitedShare)),
        value: share,
        threshold: rateLimitedShare,
        message: () => `limiter ${short(limiter.name)} refused ${pct(share)} of requests ≥ ${pct(rateLimitedShare)} (${limited} of ${total})`,
      });
    }
  }
}
