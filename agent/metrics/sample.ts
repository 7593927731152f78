/**
 * What a request sample is recorded as, the same in the app's thread (the worker's ring, see
 * agent/worker/link.ts) and in the back end's metrics: its status code, its flags and its clamped
 * duration. A leaf module: the app's thread reads it without loading the back end.
 */
import type { RequestSample } from '../internal';

/** Sample flags, as queued. */
export const F_ABORTED = 1;
export const F_ERROR = 2;

/** At most one answer in this many of a route has its URL read for the recorded paths, in a steady state. */
export const MAX_PATH_EVERY = 256;

/** Durations are clamped into [0, one day]. */
const MAX_DURATION = 86_400_000;

/** A sample's status code, or 0 when it has none that HTTP allows. */
export function statusOf(sample: RequestSample): number {
  const s = sample.status;
  return typeof s === 'number' && s >= 0 && s < 1000 ? s | 0 : 0;
}

/**
 * F_ABORTED or F_ERROR or 0. An error is what was sent, not how the app got there: a 5xx, or a
 * failure with no response at all. A 404 passed to next(err) is a 404 (a status class of its
 * own), as if res.status(404) had sent it.
 */
export function flagsOf(sample: RequestSample, status: number): number {
  return sample.aborted === true ? F_ABORTED : status >= 500 || (status < 100 && sample.threw === true) ? F_ERROR : 0;
}

export function clampDuration(d: unknown): number {
  if (typeof d !== 'number' || !(d > 0)) return 0; // NaN, negative, non-numbers
  return d > MAX_DURATION ? MAX_DURATION : d;
}
