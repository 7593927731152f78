/**
 * The scalar alert thresholds, described once: what each means to a person, its unit and the
 * range the agent accepts. The agent's validation (`thresholdsPatch`), the editor's
 * "Set Alert Threshold" picker and the dashboard's thresholds editor all read this table, so
 * a threshold added to `Thresholds` is one entry here (the Record makes the compiler ask).
 */
import type { Thresholds } from './types';

export type ScalarThreshold = Exclude<keyof Thresholds, 'slowMs'>;

/** How a value reads: ms, a 0..1 fraction (shown as %), a percent of one core, a factor of a baseline, a count. */
export type ThresholdUnit = 'ms' | 'fraction' | 'percent' | 'factor' | 'count';

export interface ThresholdSpec {
  label: string;
  /** What the value means, said in a few words (the picker's description). */
  unit: ThresholdUnit;
  /** Wire value bounds: above `min` (or at it when `minInclusive`), at most `max`. */
  min: number;
  minInclusive: boolean;
  max: number;
}

const ms = (label: string): ThresholdSpec => ({ label, unit: 'ms', min: 0, minInclusive: false, max: 3_600_000 });
const fraction = (label: string, minInclusive = false): ThresholdSpec => ({ label, unit: 'fraction', min: 0, minInclusive, max: 1 });
const factor = (label: string): ThresholdSpec => ({ label, unit: 'factor', min: 1, minInclusive: false, max: 1000 });

/** Every scalar threshold, in the order editors list them. */
export const THRESHOLD_SPECS: Readonly<Record<ScalarThreshold, ThresholdSpec>> = {
  p95Ms: ms('Route p95 latency'),
  avgMs: ms('Route average latency, last minute'),
  errorRate: fraction('Error rate'),
  slowPerMinute: { label: 'Slow requests per minute', unit: 'count', min: 0, minInclusive: false, max: 1_000_000 },
  slowQueryMs: ms('Slow query, db/redis/http span'),
  heapPercent: fraction('Heap used, of its limit'),
  cpuPercent: { label: 'Process CPU, sustained', unit: 'percent', min: 0, minInclusive: false, max: 100_000 },
  eventLoopDelayMs: ms('Event-loop delay p99'),
  cacheHitRate: fraction('Cache hit rate below', true),
  rateLimitedShare: fraction('Rate-limited share'),
  anomalyFactor: factor('Latency anomaly, × own baseline'),
  errorSpikeFactor: factor('Error-rate spike, × own baseline'),
  memoryGrowthFactor: factor('Memory growth, × own baseline'),
};

export const SCALAR_THRESHOLDS = Object.keys(THRESHOLD_SPECS) as ScalarThreshold[];

/** The unit as a person reads it beside a wire value: "ms", "fraction 0..1", … */
export const UNIT_TEXT: Readonly<Record<ThresholdUnit, string>> = {
  ms: 'ms',
  fraction: 'fraction 0..1',
  percent: '% of one core',
  factor: '× baseline',
  count: 'requests ≥ the info slow threshold',
};

/** Whether `value` is in the threshold's range on the wire. */
export function inRange(spec: ThresholdSpec, value: number): boolean {
  return Number.isFinite(value) && (spec.minInclusive ? value >= spec.min : value > spec.min) && value <= spec.max;
}
