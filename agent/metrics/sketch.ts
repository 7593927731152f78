/**
 * The one latency DDSketch of RouteLens (1 % relative accuracy, logarithmic
 * mapping, at most 1024 bins, mergeable) and its portable form: base64 of the
 * DDSketch protobuf (protocol/sketch.ts). The live metrics, `GET
 * /v1/sketches`, baseline files, the history and the command line all use
 * these; sketches-js's own `toProto()` needs protobufjs, which is not
 * installed with it.
 *
 * The sketch computes what sketches-js's LogCollapsingLowestDenseDDSketch
 * computes (the same mapping object, keys, counts and quantiles), in a
 * fraction of its memory: an agent holds a sketch per endpoint, per window
 * slot and per history minute, and sketches-js's costs 2.2 kB even with one
 * sample in it (a 128-bin array per store, a negative store, a mapping each).
 * Here the bins are one typed array sized to the keys in use (in steps of
 * BIN_STEP), whose element widens as counts grow (8, 16, 32 bits, then
 * float64 for counts past 2³² or fractional ones), and the mapping is shared.
 * Durations are never negative: a value at or below zero counts as zero.
 * When the keys span more than SKETCH_BIN_LIMIT, the lowest collapse into
 * the lowest kept key (sketches-js also counts that key's bin twice there;
 * this one does not).
 */
import { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import { type SketchBins, decodeSketch, encodeSketch } from '../../protocol/sketch';
import { round } from '../text';

const RELATIVE_ACCURACY = 0.01;
/** Keeps each sketch bounded: 1024 bins at 1 % cover ~9 orders of magnitude; smaller values collapse first. */
export const SKETCH_BIN_LIMIT = 1024;
/** Any count beyond this in a sketch read from outside is corrupt. */
export const MAX_SKETCH_COUNT = 1e12;
/** Keys of durations from 1 µs to a day are within ±1000 at 1 %; a key far beyond any mapping's is corrupt. */
const MAX_KEY = 100_000;
/** Bins are allocated in steps of this many keys. */
const BIN_STEP = 16;

/** The mapping every sketch here shares (sketches-js's logarithmic one at 1 %): gamma = (1 + α) / (1 − α). */
export const SKETCH_MAPPING = new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: RELATIVE_ACCURACY, binLimit: SKETCH_BIN_LIMIT }).mapping;

type Bins = Uint8Array | Uint16Array | Uint32Array | Float64Array;
const EMPTY_MIN = 0x3fffffff;
const EMPTY_MAX = -0x3fffffff;
const NO_BINS: Bins = new Uint8Array(0);

/** The next wider bins for a count of `v` (float64 once counts pass 2³² or are fractional). */
function wider(b: Bins, v: number): Bins {
  const whole = Number.isInteger(v);
  const out = !whole || v > 0xffffffff ? new Float64Array(b.length) : v > 0xffff ? new Uint32Array(b.length) : new Uint16Array(b.length);
  out.set(b);
  return out;
}

/** valuesAtQuantiles's three ranks (reused: a read makes no array). */
const RANKS: number[] = [0, 0, 0];

export class Sketch {
  count = 0;
  zeroCount = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;
  /** The positive store: the count of key `offset + i` is `bins[i]`; every non-empty key is within minKey..maxKey. */
  bins: Bins = NO_BINS;
  offset = 0;
  /** EMPTY_MIN / EMPTY_MAX while the store is empty (whole numbers, so V8 keeps the fields unboxed). */
  minKey = EMPTY_MIN;
  maxKey = EMPTY_MAX;
  /** The store's total (count − zeroCount). */
  storeCount = 0;
  /** Keys below minKey were folded into it (the span reached the bin limit): later ones are too. */
  private collapsed = false;

  /** One value (ms) with its weight, as DDSketch's `accept`. */
  accept(value: number, weight = 1): void {
    if (!(weight > 0)) throw new Error('Weight must be a positive number');
    if (value > SKETCH_MAPPING.minPossible) this.addKey(SKETCH_MAPPING.key(value), weight);
    else this.zeroCount += weight;
    this.count += weight;
    this.sum += value * weight;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** `weight` more in the bin of `key` (the store alone: count, sum, min and max are the caller's). */
  addKey(key: number, weight = 1): void {
    const i = key >= this.minKey && key <= this.maxKey ? key - this.offset : this.indexOf(key);
    const v = this.bins[i]! + weight;
    this.bins[i] = v;
    if (this.bins[i] !== v) {
      this.bins = wider(this.bins, v);
      this.bins[i] = v;
    }
    this.storeCount += weight;
  }

  /** Adds `o` into this sketch, as DDSketch's `merge`. */
  merge(o: Sketch): void {
    if (o.count === 0) return;
    if (this.count === 0) {
      this.copy(o);
      return;
    }
    if (o.storeCount > 0) {
      for (let k = o.minKey; k <= o.maxKey; k++) {
        const c = o.bins[k - o.offset]!;
        if (c > 0) this.addKey(k, c);
      }
    }
    this.zeroCount += o.zeroCount;
    this.count += o.count;
    this.sum += o.sum;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
  }

  /** Empties the sketch (its bins are freed). */
  clear(): void {
    this.count = this.zeroCount = this.sum = this.storeCount = this.offset = 0;
    this.min = Infinity;
    this.max = -Infinity;
    this.bins = NO_BINS;
    this.minKey = EMPTY_MIN;
    this.maxKey = EMPTY_MAX;
    this.collapsed = false;
  }

  /** The value at quantile q, as DDSketch's `getValueAtQuantile` (NaN when empty or q is outside [0, 1]). */
  getValueAtQuantile(q: number): number {
    if (q < 0 || q > 1 || this.count === 0) return NaN;
    const rank = q * (this.count - 1);
    if (rank < this.zeroCount) return 0;
    return SKETCH_MAPPING.value(this.keyAtRank(rank - this.zeroCount));
  }

  /**
   * The values at three quantiles `q1 <= q2 <= q3` in one pass over the bins (a summary's p50, p95
   * and p99), each what getValueAtQuantile answers; written into `out`.
   */
  valuesAtQuantiles(q1: number, q2: number, q3: number, out: number[]): void {
    const ranks = RANKS;
    ranks[0] = this.storeRank(q1);
    ranks[1] = this.storeRank(q2);
    ranks[2] = this.storeRank(q3);
    // A rank below 0 is answered already (NaN or 0); found counts the ranks answered, lowest first.
    let found = 0;
    while (found < 3 && ranks[found]! < 0) {
      out[found] = ranks[found] === -1 ? NaN : 0;
      found++;
    }
    let running = 0;
    const bins = this.bins;
    for (let k = this.minKey; k <= this.maxKey && found < 3; k++) {
      running += bins[k - this.offset]!;
      while (found < 3 && running > ranks[found]!) out[found++] = SKETCH_MAPPING.value(k);
    }
    while (found < 3) out[found++] = SKETCH_MAPPING.value(this.maxKey);
  }

  /** The rank of quantile q in the positive store; -1 when getValueAtQuantile is NaN, -2 when it is 0. */
  private storeRank(q: number): number {
    if (q < 0 || q > 1 || this.count === 0) return -1;
    const rank = q * (this.count - 1);
    return rank < this.zeroCount ? -2 : rank - this.zeroCount;
  }

  private keyAtRank(rank: number): number {
    let running = 0;
    for (let k = this.minKey; k <= this.maxKey; k++) {
      running += this.bins[k - this.offset]!;
      if (running > rank) return k;
    }
    return this.maxKey;
  }

  private copy(o: Sketch): void {
    this.count = o.count;
    this.zeroCount = o.zeroCount;
    this.sum = o.sum;
    this.min = o.min;
    this.max = o.max;
    this.storeCount = o.storeCount;
    this.collapsed = o.collapsed;
    this.minKey = o.minKey;
    this.maxKey = o.maxKey;
    if (o.storeCount > 0) {
      // Only the keys in use: a copy is as compact as can be.
      this.offset = o.minKey;
      this.bins = o.bins.slice(o.minKey - o.offset, o.maxKey - o.offset + 1);
    }
  }

  /** The index of `key` outside minKey..maxKey: the range grows (reallocating when needed) or, past the limit, collapses. */
  private indexOf(key: number): number {
    if (this.storeCount === 0 && this.bins.length === 0) {
      this.minKey = this.maxKey = key;
      this.offset = key - (BIN_STEP >> 1);
      this.bins = new Uint8Array(BIN_STEP);
      return key - this.offset;
    }
    if (key < this.minKey && this.collapsed) return this.minKey - this.offset;
    let lo = Math.min(key, this.minKey);
    const hi = Math.max(key, this.maxKey);
    if (hi - lo + 1 > SKETCH_BIN_LIMIT) {
      lo = hi - SKETCH_BIN_LIMIT + 1;
      this.collapsed = true;
    }
    this.resize(lo, hi);
    return Math.max(key, lo) - this.offset;
  }

  /** Makes the bins cover lo..hi: counts below lo fold into lo. */
  private resize(lo: number, hi: number): void {
    const old = this.bins;
    let folded = 0;
    for (let k = this.minKey; k < lo && k <= this.maxKey; k++) folded += old[k - this.offset]!;
    if (lo >= this.offset && hi < this.offset + old.length) {
      for (let k = this.minKey; k < lo && k <= this.maxKey; k++) old[k - this.offset] = 0;
    } else {
      const span = hi - lo + 1;
      const length = Math.min(SKETCH_BIN_LIMIT, Math.ceil(span / BIN_STEP) * BIN_STEP);
      const offset = lo - ((length - span) >> 1);
      const bins = new (old.constructor as new (n: number) => Bins)(length);
      const from = Math.max(this.minKey, lo);
      if (from <= this.maxKey) bins.set(old.subarray(from - this.offset, this.maxKey - this.offset + 1), from - offset);
      this.bins = bins;
      this.offset = offset;
    }
    this.minKey = lo;
    this.maxKey = hi;
    if (folded > 0) {
      const v = this.bins[lo - this.offset]! + folded;
      this.bins[lo - this.offset] = v;
      if (this.bins[lo - this.offset] !== v) {
        this.bins = wider(this.bins, v);
        this.bins[lo - this.offset] = v;
      }
    }
  }
}

export const newSketch = (): Sketch => new Sketch();

/** A sketch's positive store as contiguous bins, from its lowest to its highest non-empty key. */
export function sketchBins(s: Sketch): SketchBins {
  const bins: number[] = [];
  if (s.storeCount > 0) for (let k = s.minKey; k <= s.maxKey; k++) bins.push(s.bins[k - s.offset] ?? 0);
  return { gamma: SKETCH_MAPPING.gamma, indexOffset: 0, zeroCount: s.zeroCount, offset: s.storeCount > 0 ? s.minKey : 0, bins };
}

/** The portable form: base64 of the DDSketch protobuf. */
export function sketchToBase64(s: Sketch): string {
  return Buffer.from(encodeSketch(sketchBins(s))).toString('base64');
}

const isCount = (v: number): boolean => Number.isFinite(v) && v >= 0 && v <= MAX_SKETCH_COUNT;

/**
 * A sketch from the portable form written by any DDSketch implementation with a
 * logarithmic mapping: each bin is re-added at its value, so another accuracy
 * or index offset still merges (with ours, every bin keeps its key). Negative
 * values are ignored (durations are not negative); an empty string is an empty
 * sketch. Throws on text that is not a DDSketch or holds an impossible count.
 */
export function readSketch(base64: string): Sketch {
  const sketch = newSketch();
  if (!base64) return sketch;
  const b = decodeSketch(Buffer.from(base64, 'base64'));
  if (!(b.gamma <= 2) || !Number.isFinite(b.indexOffset)) throw new Error('sketch: a mapping of less than 1/3 accuracy');
  if (!isCount(b.zeroCount) || !b.bins.every(isCount)) throw new Error('sketch: a count that is not a count');
  if (Math.abs(b.offset - b.indexOffset) > MAX_KEY || Math.abs(b.offset + b.bins.length - b.indexOffset) > MAX_KEY) throw new Error('sketch: a key beyond any duration');
  b.bins.forEach((c, i) => {
    if (c > 0) sketch.accept(b.gamma ** (b.offset + i - b.indexOffset) * (2 / (1 + b.gamma)), c);
  });
  if (b.zeroCount > 0) sketch.accept(0, b.zeroCount);
  return sketch;
}

/** Adds `from` into `into`. */
export function mergeSketch(into: Sketch, from: Sketch): void {
  if (from.count > 0) into.merge(from);
}

/** The value at quantile q (ms, rounded to the µs), or undefined for an empty sketch. */
export function quantile(s: Sketch, q: number): number | undefined {
  if (s.count <= 0) return undefined;
  const v = s.getValueAtQuantile(Math.min(1, Math.max(0, q)));
  return Number.isFinite(v) ? round(Math.max(0, v)) : undefined;
}
