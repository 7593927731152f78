/**
 * The load: autocannon as a library (bundled into dist/cli). A paced phase holds a fixed
 * rate below saturation (latency as users meet it); a short peak phase sends as fast as the
 * app answers (throughput). Routes take turns in one request list, so each gets its share.
 */
import type { Target } from './scenario';

interface AutocannonRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  overallRate?: number;
  requests: AutocannonRequest[];
  timeout?: number;
}

interface AutocannonResult {
  requests: { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

type Autocannon = (opts: AutocannonOptions, cb: (err: Error | null, result: AutocannonResult) => void) => { stop(): void };

// autocannon ships no type declarations: the shape used is declared above.
const autocannon = require('autocannon') as Autocannon;

export interface PhaseOptions {
  url: string;
  targets: readonly Target[];
  seconds: number;
  /** Requests per second over all routes; undefined = as fast as the app answers. */
  rate?: number;
  connections: number;
}

/** One request per path of each route, routes interleaved. */
export function requestList(targets: readonly Target[]): AutocannonRequest[] {
  const out: AutocannonRequest[] = [];
  const longest = Math.max(0, ...targets.map((t) => t.paths.length));
  for (let i = 0; i < longest; i++) {
    for (const t of targets) {
      const path = t.paths[i % t.paths.length]!;
      out.push({ method: t.method, path, headers: t.headers, ...(t.body !== undefined ? { body: t.body } : {}) });
    }
  }
  return out;
}

/** Runs one phase; resolves to autocannon's own totals (the figures a report shows come from the agent). */
export function runPhase(o: PhaseOptions): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const seconds = Math.max(0.2, o.seconds);
    autocannon(
      { url: o.url, connections: o.connections, duration: seconds, requests: requestList(o.targets), timeout: 10, ...(o.rate ? { overallRate: o.rate } : {}) },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}
