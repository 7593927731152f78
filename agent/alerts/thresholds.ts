/**
 * Alert thresholds: the defaults, the environment variables that override them,
 * and how a partial update is folded into the current set; and the health that
 * judging starts from. A leaf of the alerts: the app's thread reads it without
 * loading the rules, which run in the back end.
 */
import { type HealthReport, type ScalarThreshold, THRESHOLD_SPECS, type Thresholds } from '../../protocol';

/** The health with no alert firing or pending: where every judge of the alerts starts (copy it, `reasons` is an array). */
export const HEALTHY: Readonly<HealthReport> = Object.freeze({ score: 100, status: 'healthy', reasons: [] });

export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  p95Ms: 2000,
  errorRate: 0.05,
  heapPercent: 0.85,
  eventLoopDelayMs: 200,
  cacheHitRate: 0.5,
  rateLimitedShare: 0.2,
  anomalyFactor: 3,
  avgMs: 1000,
  slowPerMinute: 10,
  slowMs: Object.freeze({ info: 1000, warning: 5000, critical: 10000 }),
  slowQueryMs: 1000,
  cpuPercent: 90,
  errorSpikeFactor: 3,
  memoryGrowthFactor: 1.5,
}) as Thresholds;

/** A variable for one scalar threshold: the field it sets and, from the protocol's table, the values it accepts. */
const variable = <F extends ScalarThreshold>(field: F, expected: string) => {
  const { min, max, minInclusive } = THRESHOLD_SPECS[field];
  return { field, min, max, minInclusive, expected };
};

/** Environment variables read by `thresholdsFromEnv`, with the field each sets and the values it accepts. */
export const THRESHOLD_ENV = {
  ROUTELENS_P95_MS: variable('p95Ms', 'a number of milliseconds > 0'),
  ROUTELENS_ERROR_RATE: variable('errorRate', 'a fraction in (0, 1]'),
  ROUTELENS_HEAP_PERCENT: variable('heapPercent', 'a fraction in (0, 1]'),
  ROUTELENS_EVENT_LOOP_DELAY_MS: variable('eventLoopDelayMs', 'a number of milliseconds > 0'),
  ROUTELENS_CACHE_HIT_RATE: variable('cacheHitRate', 'a fraction in [0, 1]'),
  ROUTELENS_RATE_LIMITED_SHARE: variable('rateLimitedShare', 'a fraction in (0, 1]'),
  ROUTELENS_AVG_MS: variable('avgMs', 'a number of milliseconds > 0'),
  ROUTELENS_SLOW_PER_MINUTE: variable('slowPerMinute', 'a number of requests > 0'),
  ROUTELENS_SLOW_QUERY_MS: variable('slowQueryMs', 'a number of milliseconds > 0'),
  ROUTELENS_CPU_PERCENT: variable('cpuPercent', 'a percentage of one core > 0'),
  ROUTELENS_ERROR_SPIKE_FACTOR: variable('errorSpikeFactor', 'a factor > 1'),
  ROUTELENS_MEMORY_GROWTH_FACTOR: variable('memoryGrowthFactor', 'a factor > 1'),
};

const SLOW_MS_SPEC = { min: 0, max: 3_600_000, minInclusive: false, expected: 'a number of milliseconds > 0' } as const;

/** Environment variables for the slow-request severities (`slowMs`), read by `thresholdsFromEnv` too. */
export const SLOW_MS_ENV = {
  ROUTELENS_SLOW_INFO_MS: { level: 'info', ...SLOW_MS_SPEC },
  ROUTELENS_SLOW_WARNING_MS: { level: 'warning', ...SLOW_MS_SPEC },
  ROUTELENS_SLOW_CRITICAL_MS: { level: 'critical', ...SLOW_MS_SPEC },
} as const;

export type ThresholdEnvName = keyof typeof THRESHOLD_ENV | keyof typeof SLOW_MS_ENV;

export type InvalidEnvHandler = (name: ThresholdEnvName, value: string, expected: string) => void;

interface EnvSpec {
  min: number;
  max: number;
  minInclusive: boolean;
  expected: string;
}

/** A partial update of the thresholds: any field, and slowMs field by field. */
export type ThresholdsPatch = Partial<Omit<Thresholds, 'slowMs'>> & { slowMs?: Partial<Thresholds['slowMs']> };

/** Longest variable value repeated in a report about it. */
const MAX_SHOWN_VALUE = 40;

/**
 * Thresholds set through the environment. Unset or empty variables are skipped;
 * an invalid value (not a number, out of range) is ignored and reported to
 * `onInvalid` when given (the agent passes one that warns once). A slow-request
 * level set alone keeps the default of the others.
 */
export function thresholdsFromEnv(env: NodeJS.ProcessEnv, onInvalid?: InvalidEnvHandler): Partial<Thresholds> {
  const out: Partial<Record<keyof Thresholds, number>> = {};
  for (const name of Object.keys(THRESHOLD_ENV) as Array<keyof typeof THRESHOLD_ENV>) {
    const value = envNumber(env, name, THRESHOLD_ENV[name], onInvalid);
    if (value !== undefined) out[THRESHOLD_ENV[name].field] = value;
  }
  let slowMs: Thresholds['slowMs'] | undefined;
  for (const name of Object.keys(SLOW_MS_ENV) as Array<keyof typeof SLOW_MS_ENV>) {
    const value = envNumber(env, name, SLOW_MS_ENV[name], onInvalid);
    if (value !== undefined) (slowMs ??= { ...DEFAULT_THRESHOLDS.slowMs })[SLOW_MS_ENV[name].level] = value;
  }
  return (slowMs === undefined ? out : { ...out, slowMs }) as Partial<Thresholds>;
}

/** One variable's number when set and valid; undefined when unset, empty or invalid (reported). */
function envNumber(env: NodeJS.ProcessEnv, name: ThresholdEnvName, spec: EnvSpec, onInvalid: InvalidEnvHandler | undefined): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw.trim());
  if (Number.isFinite(value) && (spec.minInclusive ? value >= spec.min : value > spec.min) && value <= spec.max) return value;
  try {
    onInvalid?.(name, raw.length > MAX_SHOWN_VALUE ? raw.slice(0, MAX_SHOWN_VALUE) + '…' : raw, spec.expected);
  } catch {
    /* a reporting callback must not stop the agent */
  }
  return undefined;
}

/** `base` with every defined field of `patch`; slowMs merged field by field; unknown fields ignored. */
export function mergeThresholds(base: Thresholds, patch: ThresholdsPatch): Thresholds {
  const out: Thresholds = { ...base, slowMs: { ...base.slowMs } };
  for (const [field, value] of Object.entries(patch) as Array<[keyof Thresholds, unknown]>) {
    if (value === undefined) continue;
    if (field === 'slowMs') {
      for (const [level, ms] of Object.entries(value as object) as Array<[keyof Thresholds['slowMs'], unknown]>) {
        if (typeof ms === 'number') out.slowMs[level] = ms;
      }
    } else if (typeof value === 'number' && field in DEFAULT_THRESHOLDS) {
      (out as unknown as Record<string, number>)[field] = value;
    }
  }
  return out;
}

/** A copy the caller may keep or change. */
export function copyThresholds(thresholds: Thresholds): Thresholds {
  return { ...thresholds, slowMs: { ...thresholds.slowMs } };
}
