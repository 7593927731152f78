/**
 * The history's figures of one endpoint over one period: counts and the live
 * metrics' latency sketch (agent/metrics/sketch.ts), and their form in the
 * store, compactly: `[count, errors, zeroCount, key0, count0, Δkey1, count1,
 * …]`, the non-empty bins with delta-encoded keys (a minute of one route is a
 * few dozen numbers). Baseline files hold the sketch's portable form instead
 * (`sketchToBase64` / `readSketch` there).
 *
 * Decoding checks every number: a corrupt entry is refused (undefined), never
 * allocated from.
 */
import { MAX_SKETCH_COUNT, SKETCH_BIN_LIMIT, type Sketch, mergeSketch, newSketch, sketchBins } from '../metrics/sketch';

/** Keys of durations from 1 µs to a day are within ±1000 at 1 %; anything far beyond is corrupt. */
const MAX_KEY = 4000;

/** Figures of one endpoint over one period. */
export interface Figures {
  count: number;
  errors: number;
  sketch: Sketch;
}

export function emptyFigures(): Figures {
  return { count: 0, errors: 0, sketch: newSketch() };
}

/** Adds `b` into `a`. */
export function mergeFigures(a: Figures, b: Figures): void {
  a.count += b.count;
  a.errors += b.errors;
  mergeSketch(a.sketch, b.sketch);
}

// ---------------------------------------------------------------- the store's form

export function encodeFigures(f: Figures): number[] {
  const out = [f.count, f.errors, f.sketch.zeroCount];
  const { offset, bins } = sketchBins(f.sketch);
  let prev = 0;
  bins.forEach((c, i) => {
    if (c <= 0) return;
    out.push(offset + i - prev, c);
    prev = offset + i;
  });
  return out;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_SKETCH_COUNT;

/** Figures from their stored form; undefined when anything in it is not what encodeFigures writes. */
export function decodeFigures(raw: unknown): Figures | undefined {
  if (!Array.isArray(raw) || raw.length < 3 || raw.length % 2 === 0 || raw.length > 2 * SKETCH_BIN_LIMIT + 3) return undefined;
  const [count, errors, zero] = raw as unknown[];
  if (!isCount(count) || !isCount(errors) || !isCount(zero) || errors > count) return undefined;
  const sketch = newSketch();
  let key = 0;
  let total = zero;
  for (let i = 3; i < raw.length; i += 2) {
    const dk: unknown = raw[i];
    const c: unknown = raw[i + 1];
    if (typeof dk !== 'number' || !Number.isInteger(dk) || !isCount(c) || c === 0) return undefined;
    key += dk;
    if (Math.abs(key) > MAX_KEY) return undefined;
    sketch.addKey(key, c);
    total += c;
  }
  sketch.zeroCount = zero;
  sketch.count = total;
  return { count, errors, sketch };
}
