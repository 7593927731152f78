/**
 * Alert rules over the figures metrics, cache and rate limits report. Runs on
 * the agent's evaluation timer, never on the request path.
 *
 * Every rule yields, per target, a level: clear (under the threshold by the
 * margin), between (within the margin), over (warning) or critical. An alert
 * fires after `confirm` consecutive evaluations over the threshold, is
 * upgraded to critical after `confirm` consecutive critical ones, and resolves
 * after `confirm` consecutive clear ones, so a value oscillating around the
 * threshold does not flap. See docs/metrics.md for each rule and its defaults.
 */
import {
  type Alert,
  type AlertRule,
  type HealthReport,
  ProtocolError,
  type Severity,
  type SourceLocation,
  type Thresholds,
} from '../../protocol';
import { type AlertEndpoint, type AlertInputs, type Alerts, type Clock, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import { round, truncate } from '../text';

export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  p95Ms: 2000,
  errorRate: 0.05,
  heapPercent: 0.85,
  eventLoopDelayMs: 200,
  cacheHitRate: 0.7,
  rateLimitedShare: 0.2,
  anomalyFactor: 3,
  slowMs: Object.freeze({ info: 1000, warning: 5000, critical: 10000 }),
}) as Thresholds;

/** Environment variables read by `thresholdsFromEnv`, with the field each sets and the values it accepts. */
export const THRESHOLD_ENV = {
  ROUTELENS_P95_MS: { field: 'p95Ms', min: 0, max: 3_600_000, minInclusive: false, expected: 'a number of milliseconds > 0' },
  ROUTELENS_ERROR_RATE: { field: 'errorRate', min: 0, max: 1, minInclusive: false, expected: 'a fraction in (0, 1]' },
  ROUTELENS_HEAP_PERCENT: { field: 'heapPercent', min: 0, max: 1, minInclusive: false, expected: 'a fraction in (0, 1]' },
  ROUTELENS_EVENT_LOOP_DELAY_MS: { field: 'eventLoopDelayMs', min: 0, max: 3_600_000, minInclusive: false, expected: 'a number of milliseconds > 0' },
  ROUTELENS_CACHE_HIT_RATE: { field: 'cacheHitRate', min: 0, max: 1, minInclusive: true, expected: 'a fraction in [0, 1]' },
  ROUTELENS_RATE_LIMITED_SHARE: { field: 'rateLimitedShare', min: 0, max: 1, minInclusive: false, expected: 'a fraction in (0, 1]' },
} as const;

export type InvalidEnvHandler = (name: keyof typeof THRESHOLD_ENV, value: string, expected: string) => void;

/**
 * Thresholds set through the environment. Unset or empty variables are skipped;
 * an invalid value (not a number, out of range) is ignored and reported to
 * `onInvalid` when given (the agent passes one that warns once).
 */
export function thresholdsFromEnv(env: NodeJS.ProcessEnv, onInvalid?: InvalidEnvHandler): Partial<Thresholds> {
  const out: Partial<Record<keyof Thresholds, number>> = {};
  for (const name of Object.keys(THRESHOLD_ENV) as Array<keyof typeof THRESHOLD_ENV>) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const spec = THRESHOLD_ENV[name];
    const n = Number(raw.trim());
    const ok = Number.isFinite(n) && (spec.minInclusive ? n >= spec.min : n > spec.min) && n <= spec.max;
    if (ok) out[spec.field] = n;
    else {
      try {
        onInvalid?.(name, truncate(raw, 40), spec.expected);
      } catch {
        /* a reporting callback must not stop the agent */
      }
    }
  }
  return out as Partial<Thresholds>;
}

export interface AlertsOptions {
  clock?: Clock;
  thresholds?: Partial<Thresholds>;
  /** Consecutive evaluations a condition must hold to fire, upgrade or resolve; default 2. */
  confirm?: number;
  /** Resolve only when the value is this share past the threshold on the good side; default 0.1 (10% below). */
  clearMargin?: number;
  /** Requests in the 1m window before a route's error rate counts; default 20. */
  minRequests?: number;
  /** Requests in the 1m window before a route's p95 counts; default 5. */
  minLatencySamples?: number;
  /** Resolved alerts kept, newest first; default 200. */
  historySize?: number;
  /** Evaluations with enough samples before a route's latency baseline is trusted; default 10. */
  baselineWarmup?: number;
  /** A latency anomaly also needs the p95 above this many ms, so fast routes do not flap; default 50. */
  anomalyFloorMs?: number;
  /** Where listener failures are reported. */
  diag?: Diagnostics;
}

/** The rules' opinion of one target in one evaluation. */
const enum Level {
  Clear = 0,
  Between = 1,
  Over = 2,
  Critical = 3,
}

interface Check {
  rule: AlertRule;
  target: string;
  level: Level;
  value: number;
  threshold: number;
  /** Made only when an alert (or a pending one) shows it: most checks are healthy. */
  message: () => string;
  location?: SourceLocation;
}

interface Track {
  rule: AlertRule;
  target: string;
  over: number;
  critical: number;
  clear: number;
  alert: Alert | undefined;
  /** Resolved by hand: does not fire again until the condition first clears. */
  suppressed: boolean;
  /** The latest check while over the threshold and not firing yet (for health). */
  pending: Check | undefined;
}

interface Baseline {
  value: number;
  samples: number;
}

const PENALTY: Record<Severity, number> = { critical: 25, warning: 10, info: 5 };
const PENDING_PENALTY = 5;
const MAX_REASONS = 10;
const MAX_TARGET_IN_MESSAGE = 200;
const EWMA_ALPHA = 0.1;
/**
 * While a route is anomalous its baseline barely moves (~500 evaluations to adopt a new level), so the anomaly
 * does not teach itself to be normal. Resolving the alert by hand relearns the baseline from scratch.
 */
const EWMA_ALPHA_ANOMALOUS = 0.002;

export function createAlerts(opts: AlertsOptions = {}): Alerts {
  const clock = opts.clock ?? systemClock;
  const confirm = Math.max(1, Math.floor(opts.confirm ?? 2));
  const margin = opts.clearMargin ?? 0.1;
  const minRequests = opts.minRequests ?? 20;
  const minLatencySamples = opts.minLatencySamples ?? 5;
  const historySize = opts.historySize ?? 200;
  const warmup = opts.baselineWarmup ?? 10;
  const floorMs = opts.anomalyFloorMs ?? 50;
  let thresholds = merge(DEFAULT_THRESHOLDS, opts.thresholds ?? {});

  const tracks = new Map<string, Track>();
  const firing = new Map<string, Track>(); // alert id → track
  const baselines = new Map<string, Baseline>();
  const listeners: Array<(alert: Alert) => void> = [];
  const history: Alert[] = [];
  let health: HealthReport = { score: 100, status: 'healthy', reasons: [] };
  let changed = false;
  let seq = 0;

  // ------------------------------------------------------------ levels

  function higherIsWorse(value: number, threshold: number, critical: number): Level {
    if (value >= critical) return Level.Critical;
    if (value >= threshold) return Level.Over;
    if (value >= threshold * (1 - margin)) return Level.Between;
    return Level.Clear;
  }

  function lowerIsWorse(value: number, threshold: number, critical: number): Level {
    if (value < critical) return Level.Critical;
    if (value < threshold) return Level.Over;
    if (value < threshold + (1 - threshold) * margin) return Level.Between;
    return Level.Clear;
  }

  // ------------------------------------------------------------ rules

  function checks(inputs: AlertInputs): Check[] {
    const t = thresholds;
    const out: Check[] = [];
    let procCount = 0;
    let procErrors = 0;
    const liveIds = new Set<string>();

    for (const ep of inputs.endpoints) {
      const w = ep.windows['1m'];
      if (ep.kind !== 'custom') {
        procCount += w.count;
        procErrors += w.errors;
      }
      if (ep.kind === 'overflow') continue; // counted process-wide, never a target of its own
      liveIds.add(ep.id);
      const location = ep.handlerLocation ?? ep.location;
      if (w.count >= minLatencySamples) {
        out.push({
          rule: 'route-p95',
          target: ep.id,
          level: higherIsWorse(w.p95, t.p95Ms, 2 * t.p95Ms),
          value: w.p95,
          threshold: t.p95Ms,
          message: () => `${truncate(ep.id, MAX_TARGET_IN_MESSAGE)} p95 ${ms(w.p95)} ≥ ${ms(t.p95Ms)}`,
          location,
        });
        out.push(...anomaly(ep, w.p95, location));
      }
      if (w.count >= minRequests) {
        const rate = w.errors / w.count;
        out.push({
          rule: 'error-rate',
          target: ep.id,
          level: higherIsWorse(rate, t.errorRate, Math.min(1, 2 * t.errorRate)),
          value: rate,
          threshold: t.errorRate,
          message: () => `${truncate(ep.id, MAX_TARGET_IN_MESSAGE)} error rate ${pct(rate)} ≥ ${pct(t.errorRate)} (${w.errors} of ${w.count} in 1m)`,
          location,
        });
      }
    }
    for (const id of baselines.keys()) if (!liveIds.has(id)) baselines.delete(id);

    if (procCount >= minRequests) {
      const rate = procErrors / procCount;
      out.push({
        rule: 'error-rate',
        target: 'process',
        level: higherIsWorse(rate, t.errorRate, Math.min(1, 2 * t.errorRate)),
        value: rate,
        threshold: t.errorRate,
        message: () => `error rate ${pct(rate)} ≥ ${pct(t.errorRate)} across all routes (${procErrors} of ${procCount} in 1m)`,
      });
    }

    const sys = inputs.system;
    if (sys.heapLimit > 0) {
      const share = sys.heapUsed / sys.heapLimit;
      out.push({
        rule: 'heap',
        target: 'process',
        level: higherIsWorse(share, t.heapPercent, t.heapPercent + (1 - t.heapPercent) / 2),
        value: share,
        threshold: t.heapPercent,
        message: () => `heap ${pct(share)} of its limit ≥ ${pct(t.heapPercent)} (${mib(sys.heapUsed)} of ${mib(sys.heapLimit)})`,
      });
    }
    const delay = sys.eventLoop.delayP99;
    out.push({
      rule: 'event-loop-delay',
      target: 'process',
      level: higherIsWorse(delay, t.eventLoopDelayMs, 2 * t.eventLoopDelayMs),
      value: delay,
      threshold: t.eventLoopDelayMs,
      message: () => `event-loop delay p99 ${ms(delay)} ≥ ${ms(t.eventLoopDelayMs)}`,
    });

    const cache = inputs.cache;
    if (cache?.enabled) {
      const reads = cache.window.hits + cache.window.misses;
      if (reads >= minRequests) {
        const rate = cache.window.hitRate;
        out.push({
          rule: 'cache-hit-rate',
          target: 'cache',
          level: lowerIsWorse(rate, t.cacheHitRate, t.cacheHitRate / 2),
          value: rate,
          threshold: t.cacheHitRate,
          message: () => `cache hit rate ${pct(rate)} < ${pct(t.cacheHitRate)} (${reads} reads in 1m)`,
        });
      }
      if (cache.redis !== 'none') {
        const level = cache.redis === 'down' ? Level.Over : cache.redis === 'connecting' ? Level.Between : Level.Clear;
        out.push({
          rule: 'redis',
          target: 'redis',
          level,
          value: cache.redis === 'down' ? 1 : 0,
          threshold: 1,
          message: () => 'Redis is down: the cache serves from memory (L1) only',
        });
      }
    }

    for (const rl of inputs.rateLimits) {
      const total = rl.window.allowed + rl.window.limited;
      if (total < minRequests) continue;
      const share = rl.window.limited / total;
      out.push({
        rule: 'rate-limited',
        target: rl.name,
        level: higherIsWorse(share, t.rateLimitedShare, Math.min(1, 2 * t.rateLimitedShare)),
        value: share,
        threshold: t.rateLimitedShare,
        message: () => `limiter ${truncate(rl.name, MAX_TARGET_IN_MESSAGE)} refused ${pct(share)} of requests ≥ ${pct(t.rateLimitedShare)} (${rl.window.limited} of ${total})`,
      });
    }
    return out;
  }

  /** The route's p95 against its own learned baseline; learns from this evaluation afterwards. */
  function anomaly(ep: AlertEndpoint, p95: number, location: SourceLocation | undefined): Check[] {
    let b = baselines.get(ep.id);
    if (!b) baselines.set(ep.id, (b = { value: p95, samples: 0 }));
    let out: Check[] = [];
    let level = Level.Clear;
    if (b.samples >= warmup && b.value > 0) {
      const threshold = thresholds.anomalyFactor * b.value;
      const usual = b.value; // the message is made later, after this evaluation has moved the baseline
      level = p95 < floorMs ? Level.Clear : higherIsWorse(p95, threshold, 2 * threshold);
      out = [
        {
          rule: 'latency-anomaly',
          target: ep.id,
          level,
          value: p95,
          threshold,
          message: () => `${truncate(ep.id, MAX_TARGET_IN_MESSAGE)} p95 ${ms(p95)} is ${(p95 / usual).toFixed(1)}× its usual ${ms(usual)}`,
          location,
        },
      ];
    }
    const alpha = level >= Level.Over ? EWMA_ALPHA_ANOMALOUS : Math.max(EWMA_ALPHA, 1 / (b.samples + 1));
    b.value += alpha * (p95 - b.value);
    b.samples++;
    return out;
  }

  // ------------------------------------------------------------ state machine

  function step(track: Track, check: Check | undefined): void {
    const level = check?.level ?? Level.Clear;
    track.over = level >= Level.Over ? track.over + 1 : 0;
    track.critical = level === Level.Critical ? track.critical + 1 : 0;
    track.clear = level === Level.Clear ? track.clear + 1 : 0;
    track.pending = undefined;
    if (track.suppressed) {
      if (level === Level.Clear) track.suppressed = false;
      return;
    }
    const alert = track.alert;
    if (!alert) {
      if (!check || level < Level.Over) return;
      if (track.over >= confirm) fire(track, check, track.critical >= confirm ? 'critical' : 'warning');
      else track.pending = check;
      return;
    }
    if (track.clear >= confirm) {
      settle(track, 'auto');
      return;
    }
    // The alert keeps the figures of its latest evaluation over the threshold (a message never reads "10 ms ≥ 2 s").
    if (check && level >= Level.Over) {
      alert.value = round(check.value);
      alert.threshold = round(check.threshold);
      const message = check.message();
      if (alert.message !== message) {
        alert.message = message;
        changed = true;
      }
      if (alert.severity !== 'critical' && track.critical >= confirm) {
        alert.severity = 'critical';
        changed = true;
        notify(alert);
      }
    }
  }

  function fire(track: Track, check: Check, severity: Severity): void {
    const now = clock();
    const alert: Alert = {
      id: `${track.rule}-${now.toString(36)}-${++seq}`,
      rule: track.rule,
      target: track.target,
      severity,
      state: 'firing',
      message: check.message(),
      value: round(check.value),
      threshold: round(check.threshold),
      firedAt: now,
    };
    if (check.location) alert.location = check.location;
    track.alert = alert;
    firing.set(alert.id, track);
    changed = true;
    notify(alert);
  }

  function settle(track: Track, by: 'auto' | 'manual'): Alert {
    const alert = track.alert!;
    track.alert = undefined;
    firing.delete(alert.id);
    alert.state = 'resolved';
    alert.resolvedAt = clock();
    alert.resolvedBy = by;
    history.unshift(alert);
    if (history.length > historySize) history.length = historySize;
    changed = true;
    return { ...alert };
  }

  function notify(alert: Alert): void {
    for (const listener of listeners) {
      try {
        listener({ ...alert });
      } catch (err) {
        opts.diag?.failure('alerts.listener', err);
      }
    }
  }

  // ------------------------------------------------------------ health

  function computeHealth(): HealthReport {
    let score = 100;
    const weighted: Array<[number, string]> = [];
    for (const track of tracks.values()) {
      if (track.alert) {
        score -= PENALTY[track.alert.severity];
        weighted.push([PENALTY[track.alert.severity], track.alert.message]);
      } else if (track.pending) {
        score -= PENDING_PENALTY;
        weighted.push([PENDING_PENALTY, `${track.pending.message()} (not yet confirmed)`]);
      }
    }
    score = Math.max(0, Math.min(100, score));
    weighted.sort((a, b) => b[0] - a[0]);
    const reasons = weighted.slice(0, MAX_REASONS).map(([, r]) => r);
    if (weighted.length > MAX_REASONS) reasons.push(`and ${weighted.length - MAX_REASONS} more`);
    return { score, status: score >= 80 ? 'healthy' : score >= 50 ? 'degraded' : 'unhealthy', reasons };
  }

  return {
    evaluate(inputs: AlertInputs): void {
      const list = checks(inputs);
      const seen = new Set<Track>();
      for (const check of list) {
        const key = `${check.rule}\u0000${check.target}`;
        let track = tracks.get(key);
        if (!track) {
          if (check.level < Level.Over) continue; // nothing to remember about a healthy target
          track = { rule: check.rule, target: check.target, over: 0, critical: 0, clear: 0, alert: undefined, suppressed: false, pending: undefined };
          tracks.set(key, track);
        }
        seen.add(track);
        step(track, check);
      }
      for (const [key, track] of tracks) {
        if (!seen.has(track)) step(track, undefined); // no figure this time (no traffic, endpoint gone): counts as clear
        if (!track.alert && !track.suppressed && track.over === 0) tracks.delete(key);
      }
      const next = computeHealth();
      if (next.score !== health.score || next.reasons.join('\n') !== health.reasons.join('\n')) {
        health = next;
        changed = true;
      }
    },

    active(): Alert[] {
      const out: Alert[] = [];
      for (const track of firing.values()) out.push({ ...track.alert! });
      return out.sort((a, b) => b.firedAt - a.firedAt);
    },

    history(): Alert[] {
      return history.map((a) => ({ ...a }));
    },

    resolve(id: string): Alert {
      const track = firing.get(id);
      if (!track) throw new ProtocolError('ERR_NOT_FOUND', `no firing alert ${truncate(String(id), MAX_TARGET_IN_MESSAGE)}`);
      track.suppressed = true;
      track.pending = undefined;
      // "This is normal now": a route's new latency becomes its baseline.
      if (track.rule === 'latency-anomaly') baselines.delete(track.target);
      const alert = settle(track, 'manual');
      health = computeHealth();
      return alert;
    },

    thresholds(): Thresholds {
      return { ...thresholds, slowMs: { ...thresholds.slowMs } };
    },

    setThresholds(patch): Thresholds {
      thresholds = merge(thresholds, patch);
      return { ...thresholds, slowMs: { ...thresholds.slowMs } };
    },

    health(): HealthReport {
      return { ...health, reasons: [...health.reasons] };
    },

    takeChanged(): boolean {
      const c = changed;
      changed = false;
      return c;
    },

    onFire(listener: (alert: Alert) => void): void {
      listeners.push(listener);
    },
  };
}

type ThresholdsPatch = Partial<Omit<Thresholds, 'slowMs'>> & { slowMs?: Partial<Thresholds['slowMs']> };

/** `base` with every defined field of `patch`; slowMs merged field by field. */
function merge(base: Thresholds, patch: ThresholdsPatch): Thresholds {
  const out: Thresholds = { ...base, slowMs: { ...base.slowMs } };
  for (const [k, v] of Object.entries(patch) as Array<[keyof Thresholds, unknown]>) {
    if (v === undefined) continue;
    if (k === 'slowMs') {
      for (const [sk, sv] of Object.entries(v as object) as Array<[keyof Thresholds['slowMs'], unknown]>) {
        if (typeof sv === 'number') out.slowMs[sk] = sv;
      }
    } else if (typeof v === 'number' && k in DEFAULT_THRESHOLDS) {
      (out as unknown as Record<string, number>)[k] = v;
    }
  }
  return out;
}


/** `850 ms`, `2.4 s`. */
function ms(v: number): string {
  if (v >= 1000) return `${trim(v / 1000)} s`;
  return `${v >= 10 ? Math.round(v) : trim(v)} ms`;
}

function trim(v: number): string {
  return v.toFixed(1).replace(/\.0$/, '');
}

function pct(v: number): string {
  const p = v * 100;
  return `${p >= 10 || Number.isInteger(p) ? Math.round(p) : p.toFixed(1)}%`;
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1048576)} MiB`;
}

