/**
 * The live figures against the baseline, per agent. Pure (no vscode). Asks
 * `baseline.compare` when an agent connects and every `intervalMs` while it
 * stays connected (one request in flight per agent), and after
 * `baseline.set`; keeps the last answer in the agent's store. An agent that
 * records no history (ERR_UNAVAILABLE, or an older agent's
 * ERR_UNKNOWN_COMMAND) has no comparison; a failed poll (timeout, closed
 * socket) keeps the last one. Listeners hear when a comparison changed.
 */
import type { BaselineComparison } from '../../protocol';
import { type Timers, realTimers } from './client';
import { RouteLensError } from './errors';
import type { AgentConnection, AgentManager } from './manager';

/** How often a connected agent is asked again. */
export const BASELINE_POLL_MS = 30_000;

const NO_BASELINE = new Set(['ERR_UNAVAILABLE', 'ERR_UNKNOWN_COMMAND']);

export interface BaselinePollerOptions {
  intervalMs?: number;
  timers?: Timers;
  log?: (line: string) => void;
}

export class BaselinePoller {
  private readonly timers = new Map<string, unknown>();
  private readonly inFlight = new Set<string>();
  private readonly listeners = new Set<(agentId: string) => void>();
  private readonly sub: { dispose(): void };
  private readonly intervalMs: number;
  private readonly t: Timers;
  private readonly log: (line: string) => void;
  private disposed = false;

  constructor(
    private readonly manager: AgentManager,
    o: BaselinePollerOptions = {},
  ) {
    this.intervalMs = o.intervalMs ?? BASELINE_POLL_MS;
    this.t = o.timers ?? realTimers;
    this.log = o.log ?? (() => undefined);
    this.sub = manager.onEvent((e) => {
      if (e.kind === 'state') this.onState(e.id);
      else if (e.kind === 'agents') this.forgetGone();
    });
    for (const conn of manager.all) this.onState(conn.id);
  }

  /** Called with an agent id whenever that agent's comparison changed. */
  onChange(l: (agentId: string) => void): { dispose(): void } {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  }

  /** Asks the agent now; resolves with the comparison kept (undefined when it has none). */
  async refresh(agentId: string): Promise<BaselineComparison | undefined> {
    const conn = this.manager.get(agentId);
    if (!conn || conn.client.state !== 'connected' || this.inFlight.has(agentId)) return conn?.client.store.baseline;
    this.inFlight.add(agentId);
    try {
      this.keep(conn, await conn.client.request('baseline.compare', {}));
    } catch (err) {
      if (err instanceof RouteLensError && NO_BASELINE.has(err.code)) this.keep(conn, undefined);
      else this.log(`baseline.compare failed: ${(err as Error).message}`);
    } finally {
      this.inFlight.delete(agentId);
    }
    return conn.client.store.baseline;
  }

  /** Runs `baseline.set` (a saved file, or no file for the default branch) and keeps its answer. */
  async set(agentId: string, file: string | undefined): Promise<BaselineComparison> {
    const conn = this.manager.get(agentId);
    if (!conn) throw new RouteLensError('RL_ERR_NO_AGENT', 'that agent is no longer connected');
    const result = await conn.client.request('baseline.set', file === undefined ? {} : { file });
    this.keep(conn, result);
    return result;
  }

  private keep(conn: AgentConnection, comparison: BaselineComparison | undefined): void {
    const before = conn.client.store.baseline;
    if (before === undefined && comparison === undefined) return;
    if (before !== undefined && comparison !== undefined && JSON.stringify(before) === JSON.stringify(comparison)) return;
    conn.client.store.setBaseline(comparison);
    for (const l of [...this.listeners]) l(conn.id);
  }

  private onState(agentId: string): void {
    if (this.disposed) return;
    const conn = this.manager.get(agentId);
    const connected = conn?.client.state === 'connected';
    if (connected && !this.timers.has(agentId)) {
      void this.refresh(agentId);
      this.schedule(agentId);
    } else if (!connected) this.stop(agentId);
  }

  private schedule(agentId: string): void {
    const handle = this.t.setTimeout(() => {
      if (this.timers.get(agentId) !== handle) return;
      this.timers.delete(agentId);
      if (this.manager.get(agentId)?.client.state !== 'connected') return;
      void this.refresh(agentId);
      this.schedule(agentId);
    }, this.intervalMs);
    this.timers.set(agentId, handle);
  }

  private stop(agentId: string): void {
    const handle = this.timers.get(agentId);
    if (handle !== undefined) this.t.clearTimeout(handle);
    this.timers.delete(agentId);
  }

  private forgetGone(): void {
    for (const id of [...this.timers.keys()]) if (!this.manager.get(id)) this.stop(id);
  }

  /** Pending timers (tests). */
  get timerCount(): number {
    return this.timers.size;
  }

  dispose(): void {
    this.disposed = true;
    this.sub.dispose();
    for (const id of [...this.timers.keys()]) this.stop(id);
    this.listeners.clear();
  }
}
