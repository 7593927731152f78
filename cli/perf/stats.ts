/**
 * The statistics behind `routelens compare` (docs/baselines.md). Pure: numbers in, numbers out.
 *
 * A change is a relative difference (0.25 = +25 %) with an interval. Two baseline files
 * (verdictOf): the verdict against a threshold t (0.10 = 10 %), with `lo`/`hi` the interval:
 *   regressed    lo > t and the change exceeds the noise (worse beyond t, with confidence)
 *   improved     hi < -t and the change exceeds the noise
 *   unchanged    the whole interval within ±t
 *   inconclusive anything else: the interval straddles t, or the A/A noise is as large as the change
 * For throughput, higher is better: a fall is the regression. Alternating rounds (roundsChange)
 * add a test against the A/A pair's ratios.
 */
import { Z95 } from '../../agent/history/compare';
import type { Verdict } from '../../protocol/history';

/** A relative change (head / base - 1) and its interval. */
export interface Change {
  delta: number;
  lo: number;
  hi: number;
}

export interface Judged extends Change {
  verdict: Verdict;
}


export function verdictOf(c: Change, threshold: number, noise = 0, higherIsBetter = false): Verdict {
  const worse = higherIsBetter ? { delta: -c.delta, lo: -c.hi, hi: -c.lo } : c;
  if (!(Number.isFinite(worse.lo) && Number.isFinite(worse.hi) && Number.isFinite(worse.delta))) return 'inconclusive';
  if (worse.lo > threshold && worse.delta > noise) return 'regressed';
  if (worse.hi < -threshold && -worse.delta > noise) return 'improved';
  if (worse.lo >= -threshold && worse.hi <= threshold) return 'unchanged';
  return 'inconclusive';
}

export function judge(c: Change, threshold: number, noise = 0, higherIsBetter = false): Judged {
  return { ...c, verdict: verdictOf(c, threshold, noise, higherIsBetter) };
}

/**
 * Ranks (0-based, fractional) bounding the q-quantile of n samples with ~95 % confidence: the
 * number of samples below the true quantile is Binomial(n, q), approximated as normal.
 */
export function quantileRankBounds(n: number, q: number, z = Z95): { lo: number; hi: number } {
  if (n <= 1) return { lo: 0, hi: Math.max(0, n - 1) };
  const centre = q * (n - 1);
  const half = z * Math.sqrt(n * q * (1 - q)) + 1;
  return { lo: Math.max(0, centre - half), hi: Math.min(n - 1, centre + half) };
}

/**
 * The change head/base - 1 of two positive figures, each known within [lo, hi]: the interval
 * takes the extremes (conservative, so its coverage is at least that of the two intervals together).
 */
export function ratioChange(base: { value: number; lo: number; hi: number }, head: { value: number; lo: number; hi: number }): Change {
  if (!(base.value > 0 && base.lo > 0)) return { delta: NaN, lo: NaN, hi: NaN };
  return { delta: head.value / base.value - 1, lo: head.lo / base.hi - 1, hi: head.hi / base.lo - 1 };
}

/** A rate from a count over `seconds`, with a Poisson ~95 % interval (normal approximation). */
export function rateInterval(count: number, seconds: number, z = Z95): { value: number; lo: number; hi: number } {
  if (!(seconds > 0)) return { value: 0, lo: 0, hi: 0 };
  const half = z * Math.sqrt(Math.max(count, 1));
  return { value: count / seconds, lo: Math.max(0, count - half) / seconds, hi: (count + half) / seconds };
}

export function median(values: readonly number[]): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function binomialCdf(k: number, n: number): number {
  // P(X <= k), X ~ Binomial(n, 1/2)
  let sum = 0;
  let c = 1;
  for (let i = 0; i <= k; i++) {
    sum += c;
    c = (c * (n - i)) / (i + 1);
  }
  return sum / 2 ** n;
}

/**
 * A distribution-free interval for the median of `values`: the order statistics
 * [x(k), x(n-k+1)] with the largest k whose coverage is at least `confidence`; [min, max]
 * when no k reaches it (few values), with its coverage reported.
 */
export function medianInterval(values: readonly number[], confidence = 0.9): { lo: number; hi: number; coverage: number } {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (!n) return { lo: NaN, hi: NaN, coverage: 0 };
  let k = 1;
  while (k + 1 <= n / 2 && 1 - 2 * binomialCdf(k, n) >= confidence) k++;
  return { lo: s[k - 1]!, hi: s[n - k]!, coverage: 1 - 2 * binomialCdf(k - 1, n) };
}

/**
 * How much the machine alone moves a figure, from an A/A pair's ratios (the same code twice):
 * the larger of their spread (max - min) and their largest distance from 1; 0 when none.
 */
export function aaNoise(aaRatios: readonly number[]): number {
  const ok = aaRatios.filter((r) => Number.isFinite(r));
  if (!ok.length) return 0;
  const spread = Math.max(...ok) - Math.min(...ok);
  return Math.max(spread, ...ok.map((r) => Math.abs(r - 1)));
}

/**
 * One-sided exact Mann-Whitney test: the probability, were `a` and `b` drawn from one
 * distribution, of `a` standing at least this far above `b` (ties count half). Small samples
 * only (rounds): the null distribution is counted exactly.
 */
export function mannWhitneyGreater(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const m = b.length;
  if (!n || !m) return 1;
  let u = 0;
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  // counts[k] = arrangements of n among n+m ranks whose U is k (recurrence on the largest rank)
  const memo = new Map<string, number[]>();
  const dist = (i: number, j: number): number[] => {
    if (i === 0 || j === 0) return [1];
    const key = `${i},${j}`;
    const hit = memo.get(key);
    if (hit) return hit;
    const withA = dist(i - 1, j); // the largest is an a: it beats all j b's
    const withB = dist(i, j - 1);
    const out = new Array<number>(i * j + 1).fill(0);
    withA.forEach((c, k) => (out[k + j]! += c));
    withB.forEach((c, k) => (out[k]! += c));
    memo.set(key, out);
    return out;
  };
  const counts = dist(n, m);
  const total = counts.reduce((x, y) => x + y, 0);
  let tail = 0;
  counts.forEach((c, k) => {
    if (k >= u - 1e-9) tail += c;
  });
  return tail / total;
}

/** The one-sided level a change in rounds must reach against the A/A ratios. */
export const ROUNDS_ALPHA = 0.01;

/**
 * Per-round ratios head/base (paired within a round, fresh processes each round) against the
 * A/A ratios (base/base) of the same rounds. The change is the median ratio, its interval
 * distribution-free. It counts (regressed or improved) only when it passes the threshold, its
 * interval excludes no change, and the head ratios stand apart from the A/A ratios (exact
 * Mann-Whitney, one-sided, at ROUNDS_ALPHA): when the A/A spread is as wide as the effect, the
 * verdict is inconclusive. With 4 rounds or fewer no change can reach that level.
 */
export function roundsChange(ratios: readonly number[], aaRatios: readonly number[], threshold: number, higherIsBetter = false): Judged & { noise: number; p: number } {
  const ok = ratios.filter((r) => Number.isFinite(r) && r > 0);
  const aa = aaRatios.filter((r) => Number.isFinite(r) && r > 0);
  const noise = aaNoise(aa);
  if (!ok.length) return { delta: NaN, lo: NaN, hi: NaN, verdict: 'inconclusive', noise, p: 1 };
  const i = medianInterval(ok);
  const c: Change = { delta: median(ok) - 1, lo: i.lo - 1, hi: i.hi - 1 };
  const up = mannWhitneyGreater(ok, aa);
  const down = mannWhitneyGreater(aa, ok);
  const worse = higherIsBetter ? { delta: -c.delta, lo: -c.hi, hi: -c.lo, pWorse: down, pBetter: up } : { ...c, pWorse: up, pBetter: down };
  let verdict: Verdict;
  if (worse.delta > threshold && worse.lo > 0 && worse.pWorse <= ROUNDS_ALPHA) verdict = 'regressed';
  else if (worse.delta < -threshold && worse.hi < 0 && worse.pBetter <= ROUNDS_ALPHA) verdict = 'improved';
  else if (worse.lo >= -threshold && worse.hi <= threshold) verdict = 'unchanged';
  else verdict = 'inconclusive';
  return { ...c, verdict, noise, p: Math.min(up, down) };
}
