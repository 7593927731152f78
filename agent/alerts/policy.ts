/**
 * How much evidence each rule needs before it speaks, and how loud it may get:
 * a minimum of samples behind a figure, a minimum run of evaluations over the
 * threshold before an alert fires (and as many critical ones before it is
 * critical), and the most severe it can be. Calibrated so that a healthy app
 * with one flaky route (the demo) shows a warning for that route and nothing
 * critical. docs/metrics.md has the table.
 */
import type { AlertRule, Severity } from '../../protocol';

export interface RulePolicy {
  /** Samples in the 1m window (requests, or cache reads) before a target is judged; 0 for process figures. */
  minSamples: number;
  /**
   * Consecutive evaluations over the threshold before the alert fires, and critical ones before it is
   * critical. At the default `evaluateMs` of 1 s, seconds.
   */
  fireAfter: number;
  /** The most severe the alert gets: a low cache hit rate or a busy limiter costs, it does not break requests. */
  maxSeverity: Extract<Severity, 'warning' | 'critical'>;
}

export type RulePolicies = Readonly<Record<AlertRule, Readonly<RulePolicy>>>;

export const DEFAULT_POLICIES: RulePolicies = Object.freeze({
  'route-p95': { minSamples: 20, fireAfter: 15, maxSeverity: 'critical' },
  'route-avg': { minSamples: 20, fireAfter: 15, maxSeverity: 'critical' },
  'latency-anomaly': { minSamples: 20, fireAfter: 15, maxSeverity: 'critical' },
  'slow-requests': { minSamples: 0, fireAfter: 15, maxSeverity: 'warning' },
  'error-rate': { minSamples: 50, fireAfter: 30, maxSeverity: 'critical' },
  heap: { minSamples: 0, fireAfter: 15, maxSeverity: 'critical' },
  'event-loop-delay': { minSamples: 0, fireAfter: 10, maxSeverity: 'critical' },
  'cache-hit-rate': { minSamples: 100, fireAfter: 60, maxSeverity: 'warning' },
  'rate-limited': { minSamples: 50, fireAfter: 30, maxSeverity: 'warning' },
  redis: { minSamples: 0, fireAfter: 5, maxSeverity: 'warning' },
  // A slow query is an event: it fires at the first evaluation that sees one in the last minute.
  'slow-query': { minSamples: 0, fireAfter: 1, maxSeverity: 'warning' },
  cpu: { minSamples: 0, fireAfter: 30, maxSeverity: 'critical' },
  'error-rate-spike': { minSamples: 50, fireAfter: 15, maxSeverity: 'critical' },
  'memory-growth': { minSamples: 0, fireAfter: 30, maxSeverity: 'warning' },
} satisfies Record<AlertRule, RulePolicy>);

/** The defaults with a partial override per rule (tests, and a future option). */
export function resolvePolicies(overrides: Partial<Record<AlertRule, Partial<RulePolicy>>> = {}): RulePolicies {
  const out = {} as Record<AlertRule, RulePolicy>;
  for (const rule of Object.keys(DEFAULT_POLICIES) as AlertRule[]) {
    const p = { ...DEFAULT_POLICIES[rule], ...overrides[rule] };
    out[rule] = { minSamples: Math.max(0, p.minSamples), fireAfter: Math.max(1, Math.floor(p.fireAfter)), maxSeverity: p.maxSeverity };
  }
  return out;
}
