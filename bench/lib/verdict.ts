/**
 * A verdict read beside the run's own A/A line: "met", "not met", or "unresolved" when the
 * machine's noise in this run is wider than the distance between the figure and its target.
 * Pure (unit-tested).
 */
import { median, quantileSorted } from './stats';

/**
 * The A/A spread of one run, as a fraction: the larger of the A/A median's distance from 1 and
 * half the interquartile range of its per-round ratios. Two identical servers differ by this
 * much in this run; a figure closer than this to its target cannot be told from it.
 */
export function aaSpread(aaRatios: readonly number[]): number {
  const sorted = aaRatios.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return Math.max(Math.abs(median(sorted) - 1), (quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)) / 2);
}

export interface Judged {
  verdict: 'met' | 'not met' | 'unresolved';
  /** The verdict as printed, with the spread when unresolved. */
  text: string;
}

/**
 * `ratio` against `target`, `at most` (CPU per request ≤ ×1.03) or `at least` (peak ≥ ×0.95),
 * given the A/A spread: met when the figure is on the right side by more than the spread, not
 * met when on the wrong side by more than it, unresolved otherwise (and without an A/A line).
 */
export function judge(ratio: number, target: number, direction: 'at most' | 'at least', spread: number): Judged {
  if (!Number.isFinite(ratio)) return { verdict: 'unresolved', text: 'unresolved (no figure)' };
  if (!Number.isFinite(spread)) return { verdict: 'unresolved', text: 'unresolved (no A/A line in this run)' };
  const margin = direction === 'at most' ? target - ratio : ratio - target;
  if (margin > spread) return { verdict: 'met', text: 'met' };
  if (-margin > spread) return { verdict: 'not met', text: 'not met' };
  return { verdict: 'unresolved', text: `unresolved (A/A spread ±${(spread * 100).toFixed(1)} % wider than the effect, ${(Math.abs(margin) * 100).toFixed(1)} % from the target)` };
}

/**
 * A figure read once per round (no A/A line: a heap's bytes) against an upper bound: met when
 * every round is within it, not met when every round is over it, unresolved when the rounds fall
 * on both sides, and unresolved from a single round, which cannot show how far rounds differ
 * (`show` prints a value in the text).
 */
export function judgeRounds(values: readonly number[], target: number, show: (v: number) => string): Judged {
  const read = values.filter((v) => Number.isFinite(v));
  if (read.length === 0) return { verdict: 'unresolved', text: 'unresolved (no figure)' };
  if (read.length === 1) return { verdict: 'unresolved', text: `unresolved (one round, ${show(read[0]!)}: its spread is unknown)` };
  const lo = Math.min(...read);
  const hi = Math.max(...read);
  if (hi <= target) return { verdict: 'met', text: 'met' };
  if (lo > target) return { verdict: 'not met', text: 'not met' };
  return { verdict: 'unresolved', text: `unresolved (its ${read.length} rounds read ${show(lo)}–${show(hi)}, on both sides of the target)` };
}
