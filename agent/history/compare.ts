/**
 * The statistics of a verdict: is the live p95 of a route beyond the noise of
 * the baseline's and its own sample? See docs/history.md ("The statistics of a
 * verdict").
 *
 * Each side is a merged DDSketch. The 95 % confidence interval of a quantile
 * q of n independent samples runs between the order statistics of ranks
 * n·(q ∓ 1.96·√(q(1−q)/n)) (the binomial, distribution-free interval); the
 * sketch answers those ranks within its 1 % accuracy. The change is taken in
 * log space, ln(head / base), whose interval combines the two sides'
 * half-widths in quadrature (independent samples), plus each sketch's
 * accuracy, then comes back as a relative change (head − base) / base.
 *
 * Verdict, against the band ±minEffect (default ±10 %):
 * - `inconclusive` when either side has fewer than MIN_REQUESTS requests;
 * - `regressed` when the whole interval lies at or above +minEffect (so it
 *   excludes 0 and the smallest change the data allows is still worth a ▲);
 *   `improved` when it lies at or below −minEffect;
 * - `unchanged` when the whole interval lies inside the band (no change, or
 *   a real one smaller than worth flagging);
 * - `inconclusive` when the interval straddles an edge of the band: the data
 *   cannot tell a change worth flagging from none.
 */
import type { BaselineDelta, Verdict } from '../../protocol/history';
import { round } from '../text';
import { type Sketch, quantile } from '../metrics/sketch';

/** Fewer requests than this on either side: inconclusive (a p95 of 50 samples rests on its 3 largest). */
export const MIN_REQUESTS = 50;
/** Smallest relative change of p95 reported as regressed or improved. */
export const MIN_EFFECT = 0.1;
/** z of a two-sided 95 % interval. */
export const Z95 = 1.959964;
const Q = 0.95;
/** ln(1 + the sketch's relative accuracy): each side's quantile is within this of the truth. */
const SKETCH_ERROR = Math.log1p(0.01);
/** Durations below this (ms) are taken as this, so a ratio is defined. */
const FLOOR_MS = 0.001;

export interface Side {
  count: number;
  sketch: Sketch;
}

export interface CompareOptions {
  minEffect?: number;
  minRequests?: number;
}

/** The quantile and the ends of its 95 % interval (ms), from a sketch of `n` samples. */
export function quantileInterval(s: Sketch, q: number, n: number): { value: number; low: number; high: number } | undefined {
  const value = quantile(s, q);
  if (value === undefined || n <= 0) return undefined;
  const half = Z95 * Math.sqrt((q * (1 - q)) / n);
  return { value, low: quantile(s, Math.max(0, q - half)) ?? value, high: quantile(s, Math.min(1, q + half)) ?? value };
}

/** One route's p95, baseline against live, with its interval and verdict. */
export function compareSides(endpoint: string, base: Side | undefined, head: Side | undefined, opts: CompareOptions = {}): BaselineDelta {
  const minEffect = opts.minEffect ?? MIN_EFFECT;
  const minRequests = opts.minRequests ?? MIN_REQUESTS;
  const baseCount = base?.count ?? 0;
  const headCount = head?.count ?? 0;
  const b = base && quantileInterval(base.sketch, Q, Math.max(baseCount, base.sketch.count));
  const h = head && quantileInterval(head.sketch, Q, Math.max(headCount, head.sketch.count));
  const out: BaselineDelta = { endpoint, base: b?.value ?? 0, head: h?.value ?? 0, change: 0, low: 0, high: 0, verdict: 'inconclusive', baseCount, headCount };
  if (!b || !h) return out;
  const ln = (v: number) => Math.log(Math.max(FLOOR_MS, v));
  const change = ln(h.value) - ln(b.value);
  // A low change comes from a low head and a high base; a high change from the opposite.
  const down = Math.hypot(ln(b.high) - ln(b.value), ln(h.value) - ln(h.low), SKETCH_ERROR, SKETCH_ERROR);
  const up = Math.hypot(ln(b.value) - ln(b.low), ln(h.high) - ln(h.value), SKETCH_ERROR, SKETCH_ERROR);
  out.change = round(Math.expm1(change), 4);
  out.low = round(Math.expm1(change - down), 4);
  out.high = round(Math.expm1(change + up), 4);
  out.verdict = baseCount < minRequests || headCount < minRequests ? 'inconclusive' : verdict(out.low, out.high, minEffect);
  return out;
}

export function verdict(low: number, high: number, minEffect: number): Verdict {
  if (low >= minEffect) return 'regressed';
  if (high <= -minEffect) return 'improved';
  return low > -minEffect && high < minEffect ? 'unchanged' : 'inconclusive';
}
