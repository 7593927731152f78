/**
 * One measurement of a running app: a warm-up, the agent's figures reset, a paced phase
 * (latency: the agent's sketches and counts per route), the figures reset again, a peak
 * phase (throughput: the agent's request count per route over the phase). Every figure is
 * the agent's own, per route; the load generator's totals are not used.
 */
import { readSketch } from '../../agent/metrics/sketch';
import { round } from '../../agent/text';
import { HTTP_PATHS } from '../../protocol';
import type { RunningApp } from './app';
import { runPhase } from './load';
import type { Target } from './scenario';
import { quantileOf } from './sketch';

export interface LoadSettings {
  /** Paced phase, seconds. */
  seconds: number;
  /** Paced rate, requests per second over all routes. */
  rate: number;
  /** Peak phase, seconds (0 = none). */
  peakSeconds: number;
  /** Warm-up before the figures are reset, seconds. */
  warmupSeconds: number;
  connections: number;
}

export const DEFAULT_LOAD: LoadSettings = { seconds: 10, rate: 100, peakSeconds: 3, warmupSeconds: 2, connections: 0 };

/** Connections for a paced rate: enough that a slow route (~200 ms) does not hold the rate back; `connections` when set. */
export function connectionsFor(s: LoadSettings): number {
  return s.connections > 0 ? s.connections : Math.min(100, Math.max(4, Math.ceil(s.rate / 5)));
}

/** One route's figures from the agent. Durations in ms. */
export interface RouteFigures {
  id: string;
  method: string;
  /** Requests in the paced phase. */
  count: number;
  /** 5xx answers and requests that failed without one, paced phase. */
  errors: number;
  /** Answers with status 5xx, both phases. */
  status5xx: number;
  p50: number;
  p95: number;
  p99: number;
  /** Requests per second in the peak phase (0 without one). */
  rps: number;
  /** The paced phase's latency sketch: base64 of the portable DDSketch protobuf. */
  sketch: string;
}

interface SketchAnswer {
  endpoints: Array<{ id: string; count: number; sketch: string }>;
}

async function reset(app: RunningApp): Promise<void> {
  await app.http.command('reset', {});
}

export async function measure(app: RunningApp, targets: readonly Target[], s: LoadSettings): Promise<RouteFigures[]> {
  const url = app.appUrl;
  const connections = connectionsFor(s);
  const wanted = new Set(targets.map((t) => t.id));
  const warm = await runPhase({ url, targets, seconds: Math.max(0.5, s.warmupSeconds), rate: s.rate, connections });
  const seen = (await app.snapshot()).endpoints.reduce((n, e) => n + (wanted.has(e.id) ? e.count : 0), 0);
  if (warm.requests.total > 0 && seen === 0) {
    throw new Error(`the agent recorded none of the ${warm.requests.total} requests sent to ${url}: if the app creates its own RouteLens agent (createAgent), pass --app-agent`);
  }
  await reset(app);
  await runPhase({ url, targets, seconds: s.seconds, rate: s.rate, connections });
  const sketches = await app.http.call<SketchAnswer>('GET', HTTP_PATHS.sketches);
  const paced = await app.snapshot();
  const peak = new Map<string, number>();
  const peak5xx = new Map<string, number>();
  if (s.peakSeconds > 0) {
    await reset(app);
    await runPhase({ url, targets, seconds: s.peakSeconds, connections: Math.max(8, connections) });
    for (const e of (await app.snapshot()).endpoints) {
      peak.set(e.id, e.count);
      peak5xx.set(e.id, e.statusCodes['5xx'] ?? 0);
    }
  }
  const out: RouteFigures[] = [];
  for (const e of paced.endpoints) {
    if (!wanted.has(e.id)) continue;
    // The count comes with its sketch (one read): a request still finishing after the paced phase
    // may be recorded between that read and the snapshot's.
    const measured = sketches.endpoints.find((x) => x.id === e.id);
    const encoded = measured?.sketch ?? '';
    const sk = readSketch(encoded);
    out.push({
      id: e.id,
      method: e.method,
      count: measured?.count ?? 0,
      errors: e.errors,
      status5xx: (e.statusCodes['5xx'] ?? 0) + (peak5xx.get(e.id) ?? 0),
      p50: round(quantileOf(sk, 0.5).value, 2),
      p95: round(quantileOf(sk, 0.95).value, 2),
      p99: round(quantileOf(sk, 0.99).value, 2),
      rps: s.peakSeconds > 0 ? round((peak.get(e.id) ?? 0) / s.peakSeconds, 2) : 0,
      sketch: encoded,
    });
  }
  for (const id of wanted) if (!out.some((r) => r.id === id)) out.push({ id, method: id.split(' ')[0]!, count: 0, errors: 0, status5xx: 0, p50: 0, p95: 0, p99: 0, rps: 0, sketch: '' });
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
