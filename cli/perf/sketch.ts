/**
 * The quantiles a baseline or a comparison needs, each with its ~95 % interval, from the
 * agent's latency sketches (`GET /v1/sketches`, read with `readSketch` of agent/metrics/sketch.ts).
 */
import { type Sketch, quantile } from '../../agent/metrics/sketch';
import { quantileRankBounds } from './stats';

export interface QuantileEstimate {
  value: number;
  lo: number;
  hi: number;
}

/** The q-quantile (ms) with the interval of its rank (order statistics), read from the sketch. */
export function quantileOf(sketch: Sketch, q: number): QuantileEstimate {
  const n = sketch.count;
  if (!(n > 0)) return { value: 0, lo: 0, hi: 0 };
  const at = (p: number) => quantile(sketch, p) ?? 0;
  const r = quantileRankBounds(n, q);
  const denom = Math.max(1, n - 1);
  return { value: at(q), lo: at(r.lo / denom), hi: at(r.hi / denom) };
}
