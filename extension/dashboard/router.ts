/**
 * The host side of the dashboard's message channel. Pure (no vscode): the panel
 * gives it a `DashboardHost`. Every message from the webview is untrusted: it
 * is schema-checked (parseWebviewMessage), only allow-listed commands are
 * forwarded to the selected agent, each gets exactly one reply carrying its id,
 * and `openHandler` opens only a location the agent reported for that endpoint.
 */
import {
  type CommandName,
  type Delta,
  type FeedState,
  type HostToWebview,
  type Snapshot,
  type SourceLocation,
  applyDelta,
  assertNever,
  mergeDeltas,
  stateFromSnapshot,
} from '../../protocol';
import { parseWebviewMessage } from '../../protocol/validate';
import { RouteLensError } from '../core/errors';
import { ReportedLocations } from './locations';

export interface DashboardHost {
  post(message: HostToWebview): void;
  /** Runs a command on the selected agent. */
  request(command: CommandName, args: unknown): Promise<unknown>;
  /** The reported handler (else registration) location of an endpoint of the selected agent. */
  endpointLocation(endpointId: string): SourceLocation | undefined;
  openLocation(location: SourceLocation): void;
  /** True for a location the selected agent reported outside a forwarded reply (a finding's, an endpoint's). */
  knownLocation?(location: SourceLocation): boolean;
  /** Returns false for an unknown agent id. */
  selectAgent(agentId: string): boolean;
  /** The webview said `ready`: post the agent list and the selected snapshot. */
  ready(): void;
  log(line: string): void;
}

export interface RouterStats {
  received: number;
  rejected: number;
  forwarded: number;
}

export class DashboardRouter {
  readonly stats: RouterStats = { received: 0, rejected: 0, forwarded: 0 };
  private isReady = false;
  /** Locations the agent reported in replies forwarded to this webview, and in profiles posted to it: `openLocation` opens only these. */
  readonly reported = new ReportedLocations();

  constructor(private readonly host: DashboardHost) {}

  get ready(): boolean {
    return this.isReady;
  }

  /** Call when the webview is re-created (its HTML reloaded): wait for `ready` again. */
  reset(): void {
    this.isReady = false;
  }

  /** Posts only after `ready`; earlier messages are dropped (ready() resends the state). */
  post(message: HostToWebview): boolean {
    if (!this.isReady) return false;
    this.host.post(message);
    return true;
  }

  async receive(raw: unknown): Promise<void> {
    this.stats.received++;
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.stats.rejected++;
      this.host.log(`dashboard: refused a message: ${parsed.error}`);
      // Answer a malformed command that carried a usable id, so the webview does not wait forever.
      const id = (raw as { id?: unknown } | null)?.id;
      if ((raw as { type?: unknown } | null)?.type === 'command' && Number.isSafeInteger(id) && (id as number) >= 0) {
        this.post({ type: 'reply', id: id as number, ok: false, error: { code: 'ERR_BAD_MESSAGE', message: parsed.error } });
      }
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'ready':
        this.isReady = true;
        this.host.ready();
        return;
      case 'command': {
        this.stats.forwarded++;
        try {
          const result = await this.host.request(message.command, message.args);
          this.reported.addFromReply(message.command, result);
          this.post({ type: 'reply', id: message.id, ok: true, result });
        } catch (err) {
          const code = err instanceof RouteLensError && err.code.startsWith('ERR_') ? (err.code as 'ERR_INTERNAL') : 'ERR_UNAVAILABLE';
          this.post({ type: 'reply', id: message.id, ok: false, error: { code, message: err instanceof Error ? err.message : String(err) } });
        }
        return;
      }
      case 'openHandler': {
        const loc = this.host.endpointLocation(message.endpointId);
        if (!loc) {
          this.stats.rejected++;
          this.host.log(`dashboard: no reported location for ${message.endpointId.slice(0, 100)}`);
          return;
        }
        this.host.openLocation(loc);
        return;
      }
      case 'openLocation': {
        const loc = message.location;
        if (!this.reported.has(loc) && !this.host.knownLocation?.(loc)) {
          this.stats.rejected++;
          this.host.log(`dashboard: refused to open a location the agent did not report (${loc.file.slice(-100)}:${loc.line})`);
          return;
        }
        this.host.openLocation(loc);
        return;
      }
      case 'selectAgent':
        if (!this.host.selectAgent(message.agentId)) {
          this.stats.rejected++;
          this.host.log('dashboard: unknown agent id');
        }
        return;
      default:
        assertNever(message, 'webview message');
    }
  }
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Throttles live updates to the webview (≤ 1 per `intervalMs`): deltas in
 * between are merged (`mergeDeltas`); a snapshot replaces anything pending,
 * and deltas arriving after it are applied to it (`applyDelta`), so what the
 * webview receives has the same effect as every message in order.
 */
export class UpdateThrottle {
  private pendingDelta: { agentId: string; delta: Delta } | undefined;
  private pendingSnapshot: { agentId: string; snapshot: FeedState } | undefined;
  private last = -Infinity;
  private timer: unknown;

  constructor(
    private readonly send: (m: HostToWebview) => void,
    private readonly intervalMs = 250,
    private readonly clock: Clock = systemClock,
  ) {}

  snapshot(agentId: string, snapshot: Snapshot): void {
    this.pendingSnapshot = { agentId, snapshot: stateFromSnapshot(snapshot) };
    this.pendingDelta = undefined;
    this.schedule();
  }

  delta(agentId: string, delta: Delta): void {
    if (this.pendingSnapshot?.agentId === agentId) {
      this.pendingSnapshot.snapshot = applyDelta(this.pendingSnapshot.snapshot, delta);
      return;
    }
    if (this.pendingDelta && this.pendingDelta.agentId === agentId) this.pendingDelta.delta = mergeDeltas(this.pendingDelta.delta, delta);
    else this.pendingDelta = { agentId, delta };
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.last + this.intervalMs - this.clock.now());
    if (wait === 0) {
      this.flush();
      return;
    }
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, wait);
  }

  flush(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.pendingSnapshot && !this.pendingDelta) return;
    this.last = this.clock.now();
    if (this.pendingSnapshot) this.send({ type: 'snapshot', ...this.pendingSnapshot });
    else if (this.pendingDelta) this.send({ type: 'delta', ...this.pendingDelta });
    this.pendingSnapshot = this.pendingDelta = undefined;
  }

  dispose(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingDelta = this.pendingSnapshot = undefined;
  }
}
