/**
 * Alert rules over the figures metrics, cache and rate limits report. Runs on
 * the agent's evaluation timer, never on the request path.
 *
 * Every rule yields, per target, a level (rules.ts): clear (under the threshold
 * by the margin), between (within the margin), over (warning) or critical. An
 * alert fires after its rule's `fireAfter` consecutive evaluations over the
 * threshold (policy.ts), is upgraded to critical after as many consecutive
 * critical ones, and resolves after `resolveAfter` consecutive clear ones, so a
 * value oscillating around the threshold does not flap. See docs/metrics.md for
 * each rule and its defaults.
 */
import { Revision } from '../revision';
import { type Alert, type AlertRule, type HealthReport, ProtocolError, type Severity, type Thresholds } from '../../protocol';
import { type AlertInputs, type Alerts, type Clock, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import { round3, short } from './format';
import { type RulePolicies, type RulePolicy, resolvePolicies } from './policy';
import { type Check, Level, type RuleOptions, Rules } from './rules';
import { DEFAULT_THRESHOLDS, HEALTHY, type ThresholdsPatch, copyThresholds, mergeThresholds } from './thresholds';
import { Track, healthOf, sameHealth } from './track';

export { DEFAULT_THRESHOLDS, THRESHOLD_ENV, type InvalidEnvHandler, thresholdsFromEnv } from './thresholds';

export interface AlertsOptions {
  clock?: Clock;
  thresholds?: Partial<Thresholds>;
  /** Per rule: samples needed, evaluations over the threshold before firing, most severe level (defaults in policy.ts). */
  policies?: Partial<Record<AlertRule, Partial<RulePolicy>>>;
  /** Consecutive clear evaluations before a firing alert resolves; default 2. */
  resolveAfter?: number;
  /** Resolve only when the value is this share past the threshold on the good side; default 0.1 (10% below). */
  clearMargin?: number;
  /** Resolved alerts kept, newest first; default 200. */
  historySize?: number;
  /** Evaluations with enough samples before a route's latency baseline is trusted; default 10. */
  baselineWarmup?: number;
  /** A latency anomaly also needs the p95 above this many ms, so fast routes do not flap; default 50. */
  anomalyFloorMs?: number;
  /** Where listener failures are reported. */
  diag?: Diagnostics;
}

export function createAlerts(options: AlertsOptions = {}): Alerts {
  return new AlertEngine(options);
}

/** The alerts of one agent: tracks per (rule, target), firing alerts, history and health. */
class AlertEngine implements Alerts {
  readonly #clock: Clock;
  readonly #diag: Diagnostics | undefined;
  readonly #policies: RulePolicies;
  /** Consecutive clear evaluations needed to resolve. */
  readonly #resolveAfter: number;
  readonly #historySize: number;
  readonly #rules: Rules;
  #thresholds: Thresholds;

  /** `rule \0 target` → its track; only targets over a threshold, firing or suppressed are kept. */
  readonly #tracks = new Map<string, Track>();
  /** Alert id → the track firing it. */
  readonly #firing = new Map<string, Track>();
  /** Resolved alerts, newest first. */
  readonly #history: Alert[] = [];
  readonly #listeners: Array<(alert: Alert) => void> = [];
  #health: HealthReport = { ...HEALTHY, reasons: [] };
  readonly #revision = new Revision();
  #alertCount = 0;

  constructor(options: AlertsOptions) {
    this.#clock = options.clock ?? systemClock;
    this.#diag = options.diag;
    this.#policies = resolvePolicies(options.policies);
    this.#resolveAfter = Math.max(1, Math.floor(options.resolveAfter ?? 2));
    this.#historySize = options.historySize ?? 200;
    const rules: RuleOptions = {
      clearMargin: options.clearMargin ?? 0.1,
      policies: this.#policies,
      baselineWarmup: options.baselineWarmup ?? 10,
      anomalyFloorMs: options.anomalyFloorMs ?? 50,
    };
    this.#rules = new Rules(rules);
    this.#thresholds = mergeThresholds(DEFAULT_THRESHOLDS, options.thresholds ?? {});
  }

  evaluate(inputs: AlertInputs): void {
    const seen = new Set<Track>();
    for (const check of this.#rules.checks(inputs, this.#thresholds)) {
      const key = `${check.rule}\u0000${check.target}`;
      let track = this.#tracks.get(key);
      if (track === undefined) {
        if (check.level < Level.Over) continue; // nothing to remember about a healthy target
        track = new Track(check.rule, check.target);
        this.#tracks.set(key, track);
      }
      seen.add(track);
      this.#step(track, check);
    }
    for (const [key, track] of this.#tracks) {
      if (!seen.has(track)) this.#step(track, undefined); // no figure this time (no traffic, endpoint gone): counts as clear
      if (track.idle) this.#tracks.delete(key);
    }
    const next = healthOf(this.#tracks.values());
    if (!sameHealth(next, this.#health)) {
      this.#health = next;
      this.#revision.mark();
    }
  }

  active(): Alert[] {
    const out: Alert[] = [];
    for (const track of this.#firing.values()) out.push({ ...track.alert! });
    return out.sort((a, b) => b.firedAt - a.firedAt);
  }

  history(): Alert[] {
    return this.#history.map((alert) => ({ ...alert }));
  }

  resolve(id: string): Alert {
    const track = this.#firing.get(id);
    if (track === undefined) throw new ProtocolError('ERR_NOT_FOUND', `no firing alert ${short(String(id))}`);
    track.suppressed = true;
    track.pending = undefined;
    // "This is normal now": a route's new latency becomes its baseline.
    if (track.rule === 'latency-anomaly') this.#rules.baselines.forget(track.target);
    const alert = this.#settle(track, 'manual');
    this.#health = healthOf(this.#tracks.values());
    return alert;
  }

  thresholds(): Thresholds {
    return copyThresholds(this.#thresholds);
  }

  setThresholds(patch: ThresholdsPatch): Thresholds {
    this.#thresholds = mergeThresholds(this.#thresholds, patch);
    return copyThresholds(this.#thresholds);
  }

  health(): HealthReport {
    return { ...this.#health, reasons: [...this.#health.reasons] };
  }

  takeChanged(): boolean {
    return this.#revision.taken();
  }

  /** Grows when anything this reports changed; any number of readers compare it with the value they last saw. */
  revision(): number {
    return this.#revision.value();
  }

  onFire(listener: (alert: Alert) => void): void {
    this.#listeners.push(listener);
  }

  // ------------------------------------------------------------ state machine

  /** One evaluation of a track: `check` undefined when its target had no figure (counts as clear). */
  #step(track: Track, check: Check | undefined): void {
    const level = check?.level ?? Level.Clear;
    track.count(level);
    if (track.suppressed) {
      if (level === Level.Clear) track.suppressed = false;
      return;
    }
    const alert = track.alert;
    const { fireAfter } = this.#policies[track.rule];
    if (alert === undefined) {
      if (check === undefined || level < Level.Over) return;
      if (track.over >= fireAfter) this.#fire(track, check, track.critical >= fireAfter ? 'critical' : 'warning');
      else track.pending = check;
      return;
    }
    if (track.clear >= this.#resolveAfter) {
      this.#settle(track, 'auto');
      return;
    }
    // The alert keeps the figures of its latest evaluation over the threshold (a message never reads "10 ms ≥ 2 s").
    if (check !== undefined && level >= Level.Over) this.#update(track, alert, check, fireAfter);
  }

  /** A firing alert takes the latest figures over its threshold, and is upgraded once critical long enough. */
  #update(track: Track, alert: Alert, check: Check, fireAfter: number): void {
    alert.value = round3(check.value);
    alert.threshold = round3(check.threshold);
    const message = check.message();
    if (alert.message !== message) {
      alert.message = message;
      this.#revision.mark();
    }
    if (alert.severity !== 'critical' && track.critical >= fireAfter) {
      alert.severity = 'critical';
      this.#revision.mark();
      this.#notify(alert);
    }
  }

  #fire(track: Track, check: Check, severity: Severity): void {
    const now = this.#clock();
    const alert: Alert = {
      id: `${track.rule}-${now.toString(36)}-${++this.#alertCount}`,
      rule: track.rule,
      target: track.target,
      severity,
      state: 'firing',
      message: check.message(),
      value: round3(check.value),
      threshold: round3(check.threshold),
      firedAt: now,
    };
    if (check.location) alert.location = check.location;
    track.alert = alert;
    this.#firing.set(alert.id, track);
    this.#revision.mark();
    this.#notify(alert);
  }

  /** Resolves the track's alert into the history; returns a copy of it. */
  #settle(track: Track, by: 'auto' | 'manual'): Alert {
    const alert = track.alert!;
    track.alert = undefined;
    this.#firing.delete(alert.id);
    alert.state = 'resolved';
    alert.resolvedAt = this.#clock();
    alert.resolvedBy = by;
    this.#history.unshift(alert);
    if (this.#history.length > this.#historySize) this.#history.length = this.#historySize;
    this.#revision.mark();
    return { ...alert };
  }

  #notify(alert: Alert): void {
    for (const listener of this.#listeners) {
      try {
        listener({ ...alert });
      } catch (err) {
        this.#diag?.failure('alerts.listener', err);
      }
    }
  }
}
