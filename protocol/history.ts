/**
 * Did it get slower, on the wire: a route's figures over hours and days
 * (surviving restarts), the commits they were measured under, and the live
 * figures compared with a baseline. Types only.
 */

/** Minutes are rolled up to hours, and hours to days, as they age. */
export type HistoryResolution = 'minute' | 'hour' | 'day';

/** The git state a point was measured under (read from `.git`, not by spawning git). */
export interface GitState {
  commit: string;
  branch: string;
  /** The working tree had uncommitted changes when measuring started. */
  dirty: boolean;
}

export interface HistoryPoint {
  /** Start of the minute, hour or day (epoch ms). */
  t: number;
  count: number;
  errors: number;
  /** Percentiles (ms) from the point's merged sketch; absent when `count` is 0. */
  p50?: number;
  p95?: number;
  p99?: number;
  /** Absent when the app does not run inside a git work tree. */
  git?: GitState;
}

/** Where the measured commit changed: the History tab draws a marker there. */
export interface CommitMarker extends GitState {
  t: number;
}

export interface HistoryAnswer {
  endpoint: string;
  resolution: HistoryResolution;
  from: number;
  to: number;
  points: HistoryPoint[];
  commits: CommitMarker[];
  /**
   * Concrete paths of a GET or HEAD route with parameters, recorded from real traffic (answers
   * 2xx/3xx, without their query; at most 8, newest seen first), whatever `from` and `to` say;
   * absent when none was recorded. What `routelens baseline` drives the route with.
   */
  paths?: string[];
}

/** A comparison's verdict: beyond the noise of both samples, within it, or too noisy to tell. */
export type Verdict = 'regressed' | 'improved' | 'unchanged' | 'inconclusive';

export interface BaselineDelta {
  endpoint: string;
  /** The baseline's and the live p95 (ms). */
  base: number;
  head: number;
  /** Relative change of p95, (head − base) / base. */
  change: number;
  /** 95 % confidence interval of `change`. */
  low: number;
  high: number;
  verdict: Verdict;
  baseCount: number;
  headCount: number;
}

export interface BaselineComparison {
  /** `branch`: the repository's default branch's recent figures; `file`: a saved baseline (`routelens baseline --out`). */
  source: 'branch' | 'file';
  /** The branch name (`main`) or the file's path: what the lens says after "vs". */
  name: string;
  endpoints: BaselineDelta[];
}
