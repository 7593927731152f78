/**
 * The one latency DDSketch of RouteLens (1 % relative accuracy, logarithmic
 * mapping, at most 1024 bins, mergeable) and its portable form: base64 of the
 * DDSketch protobuf (protocol/sketch.ts). The live metrics, `GET
 * /v1/sketches`, baseline files, the history and the command line all use
 * these; sketches-js's own `toProto()` needs protobufjs, which is not
 * installed with it.
 */
import { LogCollapsingLowestDenseDDSketch } from '@datadog/sketches-js';
import { type SketchBins, decodeSketch, encodeSketch } from '../../protocol/sketch';
import { round } from '../text';

export type Sketch = LogCollapsingLowestDenseDDSketch;

const RELATIVE_ACCURACY = 0.01;
/** Keeps each sketch bounded: 1024 bins at 1 % cover ~9 orders of magnitude; smaller values collapse first. */
export const SKETCH_BIN_LIMIT = 1024;
/** Any count beyond this in a sketch read from outside is corrupt. */
export const MAX_SKETCH_COUNT = 1e12;
/** Keys of durations from 1 µs to a day are within ±1000 at 1 %; a key far beyond any mapping's is corrupt. */
const MAX_KEY = 100_000;

export const newSketch = (): Sketch => new LogCollapsingLowestDenseDDSketch({ relativeAccuracy: RELATIVE_ACCURACY, binLimit: SKETCH_BIN_LIMIT });

/** The mapping every sketch here shares (same accuracy): gamma = (1 + α) / (1 − α). */
export const SKETCH_MAPPING = newSketch().mapping;

/** A sketch's positive store as contiguous bins, from its lowest to its highest non-empty key. */
export function sketchBins(s: Sketch): SketchBins {
  const st = s.store;
  const bins: number[] = [];
  if (st.count > 0) for (let k = st.minKey; k <= st.maxKey; k++) bins.push(st.bins[k - st.offset] ?? 0);
  return { gamma: SKETCH_MAPPING.gamma, indexOffset: 0, zeroCount: s.zeroCount, offset: st.count > 0 ? st.minKey : 0, bins };
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
