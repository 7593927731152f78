/**
 * Cache warmers: named functions that return entries to write (sync or async),
 * run on demand (`warm(name)`, the editor's "warm" command), at start
 * (`warmOnStart`) and, for a warmer given as `{ load, every }`, every `every`
 * ms. Each entry goes through the ordinary `set`; a bad entry is an error
 * event, not a failed run. At most MAX_WARM_ENTRIES entries per run.
 *
 * Runs of one warmer never overlap: a `warm(name)` while a run is in flight
 * joins it, and a scheduled run that comes due then is skipped. A run is
 * bounded by the warmer's `timeout`: past it the run stops writing and fails
 * ("timed out"); the warmer is not called again until its pending call
 * settles. Timers are unref()ed and cleared by `close()`. Each warmer's last
 * run (trigger, start, duration, keys loaded, error) is in the stats.
 */
import type { CacheWarmerStats } from '../../protocol';
import { RouteLensError } from '../errors';
import type { Clock } from '../internal';
import type { Diagnostics } from '../log';
import { truncate } from '../text';
import { checkKey, type WarmerPolicy } from './options';
import type { CacheTelemetry } from './telemetry';
import type { Tiers } from './tiers';
import type { SetOptions, WarmEntry } from './types';

const MAX_WARM_ENTRIES = 100_000;

type Trigger = NonNullable<CacheWarmerStats['lastRun']>['trigger'];

interface WarmerState {
  name: string;
  policy: WarmerPolicy;
  runs: number;
  /** The run in flight, until both it has ended and the warmer's own call has settled. */
  current: Promise<{ name: string; loaded: number }> | undefined;
  lastRun: CacheWarmerStats['lastRun'];
  nextRun: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

export class Warmers {
  private readonly states = new Map<string, WarmerState>();
  private closed = false;

  constructor(
    policies: Map<string, WarmerPolicy>,
    private readonly set: (key: string, value: unknown, options?: SetOptions) => Promise<void>,
    private readonly tiers: Tiers,
    private readonly telemetry: CacheTelemetry,
    private readonly clock: Clock,
    private readonly diag: Diagnostics | undefined,
  ) {
    for (const [name, policy] of policies) this.states.set(name, { name, policy, runs: 0, current: undefined, lastRun: undefined, nextRun: undefined, timer: undefined });
  }

  /** Starts the runs at start (`onStart`) and the schedules (`schedules`), all in the background. */
  start(onStart: boolean, schedules: boolean): void {
    for (const st of this.states.values()) {
      if (onStart) void this.run(st, 'start').catch((err: unknown) => this.diag?.failure('cache.warm', err));
      if (schedules && st.policy.every > 0) this.schedule(st);
    }
  }

  names(): string[] {
    return [...this.states.keys()];
  }

  stats(): CacheWarmerStats[] {
    const out: CacheWarmerStats[] = [];
    for (const st of this.states.values()) {
      const s: CacheWarmerStats = { name: st.name, running: st.current !== undefined, runs: st.runs };
      if (st.policy.every > 0) s.every = st.policy.every;
      if (st.nextRun !== undefined) s.nextRun = st.nextRun;
      if (st.lastRun !== undefined) s.lastRun = { ...st.lastRun };
      out.push(s);
    }
    return out;
  }

  warm(name: string): Promise<{ name: string; loaded: number }> {
    const st = this.states.get(name);
    if (st === undefined) return Promise.reject(new RouteLensError('ROUTELENS_ERR_NOT_FOUND', `no cache warmer named "${truncate(String(name), 64, '')}"`));
    return this.run(st, 'demand');
  }

  close(): void {
    this.closed = true;
    for (const st of this.states.values()) {
      clearTimeout(st.timer);
      st.timer = undefined;
      st.nextRun = undefined;
    }
  }

  private schedule(st: WarmerState): void {
    if (this.closed) return;
    st.nextRun = this.clock() + st.policy.every;
    st.timer = setTimeout(() => {
      st.timer = undefined;
      // A run still in flight (or a timed-out call still pending): this one is skipped, the schedule goes on.
      if (st.current === undefined && !this.closed) void this.run(st, 'schedule').catch(() => {});
      this.schedule(st);
    }, st.policy.every);
    st.timer.unref();
  }

  private run(st: WarmerState, trigger: Trigger): Promise<{ name: string; loaded: number }> {
    if (st.current !== undefined) return st.current;
    let call: Promise<unknown> = Promise.resolve();
    const p = this.execute(st, trigger, (c) => (call = c));
    st.current = p;
    const clear = (): void => {
      if (st.current === p) st.current = undefined;
      this.telemetry.touched();
    };
    void p.then(
      () => call,
      () => call,
    ).then(clear, clear);
    return p;
  }

  /** One run: calls the warmer (reporting its promise through `calling`), writes its entries until done or timed out. */
  private async execute(st: WarmerState, trigger: Trigger, calling: (call: Promise<unknown>) => void): Promise<{ name: string; loaded: number }> {
    const at = this.clock();
    const started = performance.now();
    const deadline = started + st.policy.timeout;
    st.runs++;
    this.telemetry.touched();
    let loaded = 0;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), st.policy.timeout);
      timer.unref();
    });
    let failure: RouteLensError | undefined;
    const fail = (message: string, cause?: unknown): RouteLensError => {
      st.lastRun = { trigger, at, duration: performance.now() - started, loaded, error: message };
      if (trigger !== 'demand') this.telemetry.error(`cache warmer "${st.name}" failed: ${message}`, undefined);
      failure = new RouteLensError('ROUTELENS_ERR_LOADER', `cache warmer "${st.name}" failed: ${message}`, { cause });
      return failure;
    };
    try {
      const call = Promise.resolve().then(() => st.policy.load());
      calling(call.catch(() => {}));
      let entries: Iterable<WarmEntry> | 'timeout';
      try {
        entries = await Promise.race([call, timedOut]);
      } catch (err) {
        throw fail(err instanceof Error ? err.message : String(err), err);
      }
      if (entries === 'timeout') throw fail(`timed out after ${st.policy.timeout} ms`);
      let seen = 0;
      for (const item of entries) {
        if (++seen > MAX_WARM_ENTRIES || this.tiers.closed) break;
        if (performance.now() > deadline) throw fail(`timed out after ${st.policy.timeout} ms (${loaded} entries loaded)`);
        if (!Array.isArray(item) || checkKey(item[0]) !== undefined) {
          this.telemetry.error(`warmer "${st.name}" produced an invalid entry`, undefined);
          continue;
        }
        try {
          await this.set(item[0], item[1], item[2]);
          loaded++;
        } catch (err) {
          this.telemetry.error(err instanceof Error ? err.message : String(err), item[0]);
        }
      }
      st.lastRun = { trigger, at, duration: performance.now() - started, loaded };
      return { name: st.name, loaded };
    } catch (err) {
      // A warmer that returned something not iterable, or whose iterator threw.
      if (err === failure) throw err;
      throw fail(err instanceof Error ? err.message : String(err), err);
    } finally {
      clearTimeout(timer);
    }
  }
}
