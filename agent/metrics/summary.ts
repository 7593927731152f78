/**
 * Running latency figures: count, errors, aborts, sum, min, max and a
 * DDSketch (1% relative accuracy, mergeable) for the percentiles. One
 * `LatencyAccumulator` holds an endpoint's lifetime, one window slot, or a
 * window being merged on read.
 */
import type { LatencySummary } from '../../protocol';
import { round } from '../text';
import { SKETCH_MAPPING, type Sketch, newSketch, sketchToBase64 } from './sketch';

/** Latency histogram (5 min window): bucket upper bounds in ms; the last is Infinity (`null` in JSON). */
export const HISTOGRAM_BOUNDS: readonly number[] = Object.freeze([0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 60000, Infinity]);

/** Sample flags, as queued. */
export const F_ABORTED = 1;
export const F_ERROR = 2;

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

/** `sketch.accept(d)` with the key already known (what accept does, without a logarithm per sketch). */
function acceptKey(s: Sketch, d: number, key: number): void {
  if (key === ZERO_KEY) s.zeroCount++;
  else s.addKey(key);
  s.count++;
  s.sum += d;
  if (d < s.min) s.min = d;
  if (d > s.max) s.max = d;
}

export class LatencyAccumulator {
  count = 0;
  errors = 0;
  aborted = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  private sketch: Sketch | null = null;
  /** The sketch belongs to a slot this accumulator merged (read-only here). */
  private borrowed = false;

  /** Adds one sample; `key` is `binKey(d)`. */
  add(d: number, key: number, flags: number): void {
    this.count++;
    if (flags & F_ABORTED) this.aborted++;
    else if (flags & F_ERROR) this.errors++;
    this.sum += d;
    if (d < this.min) this.min = d;
    if (d > this.max) this.max = d;
    acceptKey((this.sketch ??= newSketch()), d, key);
  }

  merge(o: LatencyAccumulator): void {
    if (o.count === 0) return;
    this.count += o.count;
    this.errors += o.errors;
    this.aborted += o.aborted;
    this.sum += o.sum;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
    if (!o.sketch) return;
    if (!this.sketch) {
      // Copy on write: a window with one busy slot reads that slot's sketch without copying it.
      this.sketch = o.sketch;
      this.borrowed = true;
      return;
    }
    if (this.borrowed) {
      const own = newSketch();
      own.merge(this.sketch);
      this.sketch = own;
      this.borrowed = false;
    }
    this.sketch.merge(o.sketch);
  }

  clear(): void {
    this.count = this.errors = this.aborted = this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.sketch = null;
    this.borrowed = false;
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, errors: 0, aborted: 0, min: 0, avg: 0, max: 0, p50: 0, p95: 0, p99: 0 };
    return {
      count: this.count,
      errors: this.errors,
      aborted: this.aborted,
      min: round(this.min),
      avg: round(this.sum / this.count),
      max: round(this.max),
      p50: this.quantile(0.5),
      p95: this.quantile(0.95),
      p99: this.quantile(0.99),
    };
  }

  /** The sketch in its portable protobuf form (protocol/sketch.ts), base64; empty when nothing was recorded. */
  encodedSketch(): string {
    return this.sketch ? sketchToBase64(this.sketch) : '';
  }

  private quantile(q: number): number {
    const v = this.sketch ? this.sketch.getValueAtQuantile(q) : NaN;
    if (!Number.isFinite(v)) return 0;
    // The sketch answers with a bucket's representative value; the true quantile lies within [min, max].
    return round(Math.min(this.max, Math.max(this.min, v)));
  }
}


export function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
