/**
 * One (rule, target) pair's memory across evaluations, and the health report
 * made from all of them.
 */
import type { Alert, AlertRule, HealthReport, Severity } from '../../protocol';
import { type Check, Level } from './rules';

/** Consecutive evaluations over, critical and clear; the alert it fires, if any. */
export class Track {
  over = 0;
  critical = 0;
  clear = 0;
  alert: Alert | undefined = undefined;
  /** Resolved by hand: does not fire again until the condition first clears. */
  suppressed = false;
  /** The latest check while over the threshold and not firing yet (for health). */
  pending: Check | undefined = undefined;

  constructor(
    readonly rule: AlertRule,
    readonly target: string,
  ) {}

  /** Counts one evaluation's level into the consecutive runs; forgets the pending check. */
  count(level: Level): void {
    this.over = level >= Level.Over ? this.over + 1 : 0;
    this.critical = level === Level.Critical ? this.critical + 1 : 0;
    this.clear = level === Level.Clear ? this.clear + 1 : 0;
    this.pending = undefined;
  }

  /** Nothing left to remember: not firing, not suppressed, not over the threshold. */
  get idle(): boolean {
    return this.alert === undefined && !this.suppressed && this.over === 0;
  }
}

/** Score lost per firing alert of each severity. */
const PENALTY: Record<Severity, number> = { critical: 25, warning: 10, info: 5 };
/** Score lost per condition over its threshold but not yet confirmed. */
const PENDING_PENALTY = 5;
/** Reasons listed; the rest are summed up as "and N more". */
const MAX_REASONS = 10;

/** 100 less each alert's penalty (and each pending one's); reasons heaviest first. */
export function healthOf(tracks: Iterable<Track>): HealthReport {
  let score = 100;
  const weighted: Array<{ penalty: number; reason: string }> = [];
  for (const track of tracks) {
    if (track.alert !== undefined) {
      const penalty = PENALTY[track.alert.severity];
      score -= penalty;
      weighted.push({ penalty, reason: track.alert.message });
    } else if (track.pending !== undefined) {
      score -= PENDING_PENALTY;
      weighted.push({ penalty: PENDING_PENALTY, reason: `${track.pending.message()} (not yet confirmed)` });
    }
  }
  score = Math.max(0, Math.min(100, score));
  weighted.sort((a, b) => b.penalty - a.penalty);
  const reasons = weighted.slice(0, MAX_REASONS).map((w) => w.reason);
  if (weighted.length > MAX_REASONS) reasons.push(`and ${weighted.length - MAX_REASONS} more`);
  return { score, status: score >= 80 ? 'healthy' : score >= 50 ? 'degraded' : 'unhealthy', reasons };
}

/** Same score and reasons. */
export function sameHealth(a: HealthReport, b: HealthReport): boolean {
  return a.score === b.score && a.reasons.length === b.reasons.length && a.reasons.every((reason, i) => reason === b.reasons[i]);
}
