/**
 * The HTTP server's own span of a request, read by the test: the clock when Node's http server
 * announces the request (`http.server.request.start`) and when it reports the response handed to
 * the connection (`http.server.response.finish`), the two readings the agent's duration is
 * defined by.
 *
 * A channel's subscribers run one after another, and the main thread can stall between two of
 * them (a garbage collection, the OS giving the core to another process, a subscriber's own
 * work): under load a reader placed anywhere else than the agent's own can disagree with it by
 * many milliseconds although both read "at the channel". So a test brackets the agent: one reader
 * subscribed before the agent's subscribers, one after, in a process where that order is known
 * (a child process of its own: diagnostics channels are per process, and the agent subscribes
 * once per process). The agent's duration of a request then lies in `bracket()`'s interval,
 * whatever stalls happened, exactly when the agent reads its clock at the two channels.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const START = 'http.server.request.start';
const FINISH = 'http.server.response.finish';

export class SpanReader {
  readonly starts = new Map<object, number>();
  readonly finishes = new Map<object, number>();
  private readonly onStart = (m: unknown): void => {
    const t = performance.now();
    this.starts.set((m as { request: object }).request, t);
  };
  private readonly onFinish = (m: unknown): void => {
    const t = performance.now();
    this.finishes.set((m as { request: object }).request, t);
  };

  constructor() {
    subscribe(START, this.onStart);
    subscribe(FINISH, this.onFinish);
  }

  close(): void {
    unsubscribe(START, this.onStart);
    unsubscribe(FINISH, this.onFinish);
  }
}

/** A request's server span as far as two readers can tell: at least `lo`, at most `hi` (ms). */
export interface SpanBounds {
  lo: number;
  hi: number;
}

/**
 * The span of `req` between a reader subscribed before the agent (`before`) and one after
 * (`after`): from the later start reading to the earlier finish reading at least, from the
 * earlier start to the later finish at most. Undefined when a reader missed the request.
 */
export function bracket(before: SpanReader, after: SpanReader, req: object): SpanBounds | undefined {
  const s0 = before.starts.get(req);
  const s1 = after.starts.get(req);
  const f0 = before.finishes.get(req);
  const f1 = after.finishes.get(req);
  if (s0 === undefined || s1 === undefined || f0 === undefined || f1 === undefined) return undefined;
  return { lo: f0 - s1, hi: f1 - s0 };
}

/**
 * Runs `file` in a child process (with tsx, `env` added) and returns what it printed as JSON:
 * the child is where the order of the channels' subscribers is known.
 */
export function runChild<T>(file: string, env: Record<string, string>): T {
  const child = spawnSync(process.execPath, ['--import', 'tsx', file], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
  if (child.status !== 0) throw new Error(`${file} exited with ${child.status ?? child.signal}: ${child.stderr}`);
  return JSON.parse(child.stdout) as T;
}
