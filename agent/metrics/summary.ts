/**
 * Running latency figures: count, errors, aborts, sum, min, max and a
 * DDSketch (1% relative accuracy, mergeable) for the percentiles, in one
 * object. One `LatencyAccumulator` holds an endpoint's lifetime, one window
 * slot, or a window being merged on read.
 */
import type { LatencySummary } from '../../protocol';
import { round } from '../text';
import { F_ABORTED, F_ERROR } from './sample';
import { SKETCH_MAPPING, Sketch, sketchToBase64 } from './sketch';

/** Latency histogram (5 min window): bucket upper bounds in ms; the last is Infinity (`null` in JSON). */
export const HISTOGRAM_BOUNDS: readonly number[] = Object.freeze([0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 60000, Infinity]);


/** summary()'s p50, p95 and p99, before rounding (reused: a summary makes no array). */
const QUANTILES: number[] = [0, 0, 0];

/** Key meaning "counts as zero" (below the mapping's smallest value). */
const ZERO_KEY = -Infinity;

/** The sketch bin of a duration, computed once per sample for every sketch it goes into (they share one mapping). */
export function binKey(d: number): number {
  return d > SKETCH_MAPPING.minPossible ? SKETCH_MAPPING.key(d) : ZERO_KEY;
}

/** The histogram bucket of a duration. */
export function histogramBucket(d: number): number {
  let i = 0;
  while (d > HISTOGRAM_BOUNDS[i]!) i++;
  return i;
}

/**
 * Running figures and the sketch in one object (a LatencyAccumulator is the sketch of its samples,
 * so the count, sum and extremes are kept once and no second object is allocated per slot).
 */
export class LatencyAccumulator extends Sketch {
  errors = 0;
  aborted = 0;

  /** Adds one sample; `key` is `binKey(d)` (what `accept(d)` does, without a logarithm per sketch). */
  add(d: number, key: number, flags: number): void {
    this.count++;
    if (flags & F_ABORTED) this.aborted++;
    else if (flags & F_ERROR) this.errors++;
    this.sum += d;
    if (d < this.min) this.min = d;
    if (d > this.max) this.max = d;
    if (key === ZERO_KEY) this.zeroCount++;
    else this.addKey(key);
  }

  override merge(o: LatencyAccumulator): void {
    if (o.count === 0) return;
    this.errors += o.errors;
    this.aborted += o.aborted;
    super.merge(o);
  }

  override clear(): void {
    super.clear();
    this.errors = this.aborted = 0;
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, errors: 0, aborted: 0, min: 0, avg: 0, max: 0, p50: 0, p95: 0, p99: 0 };
    // The three in one pass over the bins (a client's delta reads every changed endpoint's windows).
    this.valuesAtQuantiles(0.5, 0.95, 0.99, QUANTILES);
    return {
      count: this.count,
      errors: this.errors,
      aborted: this.aborted,
      min: round(this.min),
      avg: round(this.sum / this.count),
      max: round(this.max),
      p50: this.bounded(QUANTILES[0]!),
      p95: this.bounded(QUANTILES[1]!),
      p99: this.bounded(QUANTILES[2]!),
    };
  }

  /** The sketch in its portable protobuf form (protocol/sketch.ts), base64; empty when nothing was recorded. */
  encodedSketch(): string {
    return this.count > 0 ? sketchToBase64(this) : '';
  }

  /** A quantile's value as a summary shows it. */
  private bounded(v: number): number {
    if (!Number.isFinite(v)) return 0;
    // The sketch answers with a bucket's representative value; the true quantile lies within [min, max].
    return round(Math.min(this.max, Math.max(this.min, v)));
  }
}

export function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
