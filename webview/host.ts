/**
 * The link to the extension host: the VS Code webview API, incoming message checks, and
 * commands with ids answered by one `reply` each.
 */
import type { CommandArgs, CommandResults, ErrorInfo } from '../protocol/commands';
import { HOST_MESSAGE_TYPES, type HostToWebview, type WebviewCommand, type WebviewToHost } from '../protocol/webview';
import { clean } from './dom';

/** What `acquireVsCodeApi()` returns (the part we use). */
export interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare global {
  // Provided by VS Code inside a webview (and by the test harness's shim).
  function acquireVsCodeApi(): VsCodeApi;
}

/** The webview API, or a no-op stand-in when the page runs outside a webview. */
export function vscodeApi(): VsCodeApi {
  if (typeof acquireVsCodeApi === 'function') return acquireVsCodeApi();
  let state: unknown;
  return { postMessage: () => undefined, getState: () => state, setState: (s) => void (state = s) };
}

const HOST_TYPES = new Set<string>(HOST_MESSAGE_TYPES);

/** A light shape check of a host message: the host is trusted, its strings are not (views treat them as text). */
export function isHostMessage(data: unknown): data is HostToWebview {
  if (!data || typeof data !== 'object') return false;
  const m = data as { type?: unknown; [k: string]: unknown };
  if (typeof m.type !== 'string' || !HOST_TYPES.has(m.type)) return false;
  switch (m.type) {
    case 'agents':
      return Array.isArray(m.agents);
    case 'snapshot':
      return typeof m.agentId === 'string' && !!m.snapshot && typeof m.snapshot === 'object' && Array.isArray((m.snapshot as { endpoints?: unknown }).endpoints);
    case 'delta':
      return typeof m.agentId === 'string' && !!m.delta && typeof m.delta === 'object';
    case 'reply':
      return typeof m.id === 'number' && typeof m.ok === 'boolean';
    case 'focusEndpoint':
      return typeof m.endpointId === 'string';
    case 'showTab':
      return typeof m.tab === 'string';
    case 'showDetails':
      return typeof m.endpointId === 'string';
    case 'profile':
      return typeof m.agentId === 'string' && !!m.summary && typeof m.summary === 'object' && Array.isArray((m.summary as { top?: unknown }).top);
    default:
      return false;
  }
}

/** The status line (aria-live) where command results and errors are shown. */
export class StatusLine {
  readonly el: HTMLElement;
  constructor(el: HTMLElement) {
    this.el = el;
    el.setAttribute('role', 'status');
    el.setAttribute('aria-live', 'polite');
  }
  info(text: string): void {
    this.el.className = 'status';
    this.el.textContent = clean(text);
  }
  error(text: string): void {
    this.el.className = 'status error';
    this.el.textContent = clean(text);
  }
}

interface Pending {
  command: WebviewCommand;
  timer: ReturnType<typeof setTimeout>;
  resolve: (r: { ok: true; result: unknown } | { ok: false; error: ErrorInfo }) => void;
}

export type CommandOutcome<C extends WebviewCommand> = { ok: true; result: CommandResults[C] } | { ok: false; error: ErrorInfo };

/**
 * Sends commands and matches replies by id. Every pending entry is deleted when its reply
 * comes or when it times out, so the map never grows.
 */
export class Commands {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    private readonly api: VsCodeApi,
    readonly status: StatusLine,
    private readonly timeoutMs = 30_000,
  ) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Posts a command; resolves with the reply. `describe` turns a result into the status text;
   * errors are always shown in the status line.
   */
  send<C extends WebviewCommand>(command: C, args: CommandArgs<C>, describe?: (result: CommandResults[C]) => string | undefined): Promise<CommandOutcome<C>> {
    const id = this.nextId++;
    this.status.info(`${command}…`);
    return new Promise<CommandOutcome<C>>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        const error: ErrorInfo = { code: 'ERR_TIMEOUT', message: `${command}: no answer after ${Math.round(this.timeoutMs / 1000)} s` };
        this.status.error(error.message);
        resolve({ ok: false, error });
      }, this.timeoutMs);
      this.pending.set(id, {
        command,
        timer,
        resolve: (r) => {
          if (r.ok) {
            const text = describe?.(r.result as CommandResults[C]);
            this.status.info(text ?? `${command}: done`);
          } else {
            this.status.error(`${command} failed: ${r.error.message} (${r.error.code})`);
          }
          resolve(r as CommandOutcome<C>);
        },
      });
      this.api.postMessage({ type: 'command', id, command, args });
    });
  }

  /** Handles a `reply`; replies to unknown (answered or timed-out) ids are ignored. */
  handleReply(msg: Extract<HostToWebview, { type: 'reply' }>): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve({ ok: true, result: msg.result });
    else p.resolve({ ok: false, error: { code: msg.error?.code ?? 'ERR_INTERNAL', message: String(msg.error?.message ?? 'unknown error') } });
  }
}
