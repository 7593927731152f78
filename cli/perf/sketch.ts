/**
 * Latency sketches as the agent sends them (`GET /v1/sketches`: base64 of the portable
 * protobuf, protocol/sketch.ts), read back into mergeable DDSketches, and the quantiles a
 * baseline or a comparison needs, each with its ~95 % interval.
 */
import { DDSketch } from '@datadog/sketches-js';
import { decodeSketch } from '../../protocol/sketch';
import { quantileRankBounds } from './stats';

export type Sketch = DDSketch;

/** An empty string (nothing recorded) reads as an empty sketch. Throws on bytes that are not a sketch. */
export function readSketch(base64: string): Sketch {
  if (!base64) return new DDSketch();
  const b = decodeSketch(Buffer.from(base64, 'base64'));
  const sketch = new DDSketch({ relativeAccuracy: (b.gamma - 1) / (b.gamma + 1) });
  if (b.indexOffset !== 0) throw new Error('sketch: a mapping with an index offset is not supported');
  b.bins.forEach((c, i) => {
    if (c > 0) {
      sketch.store.add(b.offset + i, c);
      sketch.count += c;
    }
  });
  sketch.zeroCount = b.zeroCount;
  sketch.count += b.zeroCount;
  return sketch;
}

/** Merges sketches (same accuracy) into a new one. */
export function mergeSketches(sketches: readonly Sketch[]): Sketch {
  const out = new DDSketch();
  for (const s of sketches) if (s.count > 0) out.merge(s);
  return out;
}

export interface QuantileEstimate {
  value: number;
  lo: number;
  hi: number;
}

/** The q-quantile (ms) with the interval of its rank (order statistics), read from the sketch. */
export function quantileOf(sketch: Sketch, q: number): QuantileEstimate {
  const n = sketch.count;
  if (!(n > 0)) return { value: 0, lo: 0, hi: 0 };
  const at = (p: number) => Math.max(0, sketch.getValueAtQuantile(Math.min(1, Math.max(0, p))));
  const r = quantileRankBounds(n, q);
  const denom = Math.max(1, n - 1);
  return { value: at(q), lo: at(r.lo / denom), hi: at(r.hi / denom) };
}

export const round2 = (v: number): number => Math.round(v * 100) / 100;
