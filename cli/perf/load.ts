/**
 * The load. A paced phase holds a fixed rate below saturation (latency as users meet it): request
 * n leaves at start + n/rate over keep-alive connections (Node's http Agent), whatever the
 * answers before it took, so one route's latency does not reshape when the others' requests
 * leave. autocannon does not pace that way: its rate is a quota per connection per second, sent
 * back to back at the start of every second, a burst a second whose queueing a route made slower
 * reshapes for every route (an unchanged route then reads faster or slower). A short peak phase
 * sends as fast as the app answers (throughput):
 * autocannon as a library (bundled into dist/cli). Routes take turns in one request list, so
 * each gets its share.
 */
import http from 'node:http';
import https from 'node:https';
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

/** Runs one phase; resolves to the load generator's own totals (the figures a report shows come from the agent). */
export function runPhase(o: PhaseOptions): Promise<PhaseResult> {
  return o.rate ? runPaced({ ...o, rate: o.rate }) : runPeak(o);
}

export interface PhaseResult {
  /** Answered requests. */
  requests: { total: number };
  /** Requests that failed without an answer (refused, reset, timed out). */
  errors: number;
  timeouts: number;
  non2xx: number;
}

/** How long a request may wait for its answer, and the phase for its last answers, before they count as timeouts. */
const ANSWER_TIMEOUT_MS = 10_000;

/**
 * Open loop: round(seconds × rate) requests (at least one), request n sent at start + n/rate
 * (those a late timer finds due leave together), over at most `connections` keep-alive
 * connections (a request finding them all busy waits for one: the app is saturated). Resolves
 * once every request is answered or failed; ANSWER_TIMEOUT_MS after the last one left, those
 * still waiting count as timeouts and their connections are closed.
 */
export function runPaced(o: PhaseOptions & { rate: number }): Promise<PhaseResult> {
  const base = new URL(o.url);
  // What each entry of the request list sends, made once: the list repeats over the phase.
  const list = requestList(o.targets).map((r) => {
    const body = r.body === undefined ? undefined : Buffer.from(r.body);
    const headers = body === undefined ? r.headers : { ...r.headers, 'content-length': String(body.length) };
    return { url: new URL(r.path, base), method: r.method, headers, body };
  });
  const client = base.protocol === 'https:' ? https : http;
  const agent = new client.Agent({ keepAlive: true, maxSockets: Math.max(1, o.connections) });
  const total = Math.max(1, Math.round(Math.max(0.2, o.seconds) * o.rate));
  const gapMs = 1000 / o.rate;
  const result: PhaseResult = { requests: { total: 0 }, errors: 0, timeouts: 0, non2xx: 0 };
  let sent = 0;
  let settled = 0;
  let over = false;
  let deadline: NodeJS.Timeout | undefined;
  /** Requests not answered or failed yet: those left at the deadline are destroyed, so none is sent after the phase. */
  const waiting = new Set<http.ClientRequest>();
  return new Promise((resolve) => {
    const finish = (): void => {
      over = true;
      clearTimeout(deadline);
      for (const req of waiting) req.destroy();
      agent.destroy();
      resolve(result);
    };
    const done = (): void => {
      if (++settled === total) finish();
    };
    const send = (n: number): void => {
      const r = list[n % list.length]!;
      let ended = false;
      let req: http.ClientRequest | undefined;
      const end = (outcome: 'answered' | 'error' | 'timeout', status = 0): void => {
        if (ended || over) return;
        ended = true;
        if (req !== undefined) waiting.delete(req);
        if (outcome === 'answered') {
          result.requests.total++;
          if (status < 200 || status >= 300) result.non2xx++;
        } else if (outcome === 'timeout') result.timeouts++;
        else result.errors++;
        done();
      };
      try {
        const request = client.request(r.url, { method: r.method, headers: r.headers, agent }, (res) => {
          res.on('error', () => end('error'));
          res.on('end', () => end('answered', res.statusCode ?? 0));
          res.resume();
        });
        req = request;
        waiting.add(request);
        request.setTimeout(ANSWER_TIMEOUT_MS, () => {
          end('timeout');
          request.destroy();
        });
        request.on('error', () => end('error'));
        request.end(r.body);
      } catch {
        // A request Node refuses to make (a header it cannot send): counted as failed, the phase goes on.
        end('error');
      }
    };
    const start = performance.now();
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / gapMs) + 1);
      while (sent < due) send(sent++);
      if (sent < total) setTimeout(tick, Math.max(0, start + sent * gapMs - performance.now()));
      else if (!over)
        deadline = setTimeout(() => {
          result.timeouts += total - settled;
          finish();
        }, ANSWER_TIMEOUT_MS);
    };
    tick();
  });
}

/** As fast as the app answers: autocannon over `connections` connections for `seconds`. */
function runPeak(o: PhaseOptions): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    const seconds = Math.max(0.2, o.seconds);
    autocannon(
      { url: o.url, connections: o.connections, duration: seconds, requests: requestList(o.targets), timeout: ANSWER_TIMEOUT_MS / 1000 },
      (err, result) => (err ? reject(err) : resolve(result)),
    );
  });
}
