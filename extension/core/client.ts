/**
 * A connection to one agent over its WebSocket (`/v1/stream`). Pure Node (ws).
 *
 * - Auth with `Authorization: Bearer <token>`; no Origin header is ever sent.
 * - Snapshot + deltas merged into this connection's own AgentStore.
 * - request(): one id per command, exactly one answer, a timeout, the entry
 *   deleted when answered, timed out or the socket closed.
 * - Reconnect with exponential backoff and jitter; every attempt calls
 *   `resolve()` again, so a restarted agent's new port and token are picked up
 *   from discovery; the agent's snapshot on connect resyncs the store.
 * - Liveness: a ping every `pingIntervalMs`; a peer that answered nothing
 *   since the previous ping is terminated (dropped within two intervals).
 * - At most one socket and one ping timer and one reconnect timer at a time.
 */
import WebSocket from 'ws';
import {
  type AgentMessage,
  type CommandArgs,
  type CommandName,
  type CommandResults,
  type ConnectionState,
  type Delta,
  type DiscoveryRecord,
  HTTP_PATHS,
  type Snapshot,
  assertNever,
} from '../../protocol';
import { RouteLensError } from './errors';
import { AgentStore } from './store';

export interface AgentEndpoint {
  /** ws://host:port/v1/stream */
  url: string;
  token: string;
}

export function endpointFromRecord(record: Pick<DiscoveryRecord, 'host' | 'port' | 'token'>): AgentEndpoint {
  const host = record.host.includes(':') && !record.host.startsWith('[') ? `[${record.host}]` : record.host;
  return { url: `ws://${host}:${record.port}${HTTP_PATHS.stream}`, token: record.token };
}

/** Accepts `ws://host:port`, `http://host:port` or a full stream URL; returns the stream URL. */
export function normalizeAgentUrl(input: string): string {
  const u = new URL(input.trim());
  if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.protocol === 'https:') u.protocol = 'wss:';
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new RouteLensError('RL_ERR_NO_AGENT', `not a ws/http URL: ${input}`);
  if (u.pathname === '/' || u.pathname === '') u.pathname = HTTP_PATHS.stream;
  return u.toString();
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface AgentClientOptions {
  /** Where to connect now; called before every attempt (re-reads discovery). undefined = agent not running. */
  resolve: () => AgentEndpoint | undefined | Promise<AgentEndpoint | undefined>;
  requestTimeoutMs?: number;
  pingIntervalMs?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** 0..1 share of the delay randomised away (full jitter at 1). */
  jitter?: number;
  random?: () => number;
  handshakeTimeoutMs?: number;
  log?: (line: string) => void;
  timers?: Timers;
}

type Listener<T> = (value: T) => void;

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: unknown;
  command: string;
}

/** Node timers, unref'ed so a pending one never keeps the process alive. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface ClientStats {
  /** Sockets this client holds open or opening (0 or 1). */
  sockets: number;
  /** Live timers: ping, reconnect, handshake and request timeouts. */
  timers: number;
  pending: number;
  connects: number;
  reconnects: number;
  sequenceGaps: number;
}

export class AgentClient {
  readonly store = new AgentStore();
  private ws: WebSocket | undefined;
  private current: AgentEndpoint | undefined;
  private stateValue: ConnectionState = 'disconnected';
  private attempts = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly liveTimers = new Set<unknown>();
  private reconnectTimer: unknown;
  private pingTimer: unknown;
  /** From open until the first snapshot: a socket that never sends one is dropped. */
  private snapshotTimer: unknown;
  private alive = true;
  private connecting = false;
  private started = false;
  private disposed = false;
  private counters = { connects: 0, reconnects: 0, sequenceGaps: 0 };
  private readonly listeners = {
    state: new Set<Listener<ConnectionState>>(),
    snapshot: new Set<Listener<Snapshot>>(),
    delta: new Set<Listener<Delta>>(),
  };
  private readonly o: Required<Omit<AgentClientOptions, 'log'>> & { log: (line: string) => void };

  constructor(options: AgentClientOptions) {
    this.o = {
      requestTimeoutMs: 10_000,
      pingIntervalMs: 10_000,
      initialDelayMs: 500,
      maxDelayMs: 30_000,
      jitter: 0.5,
      random: Math.random,
      handshakeTimeoutMs: 5000,
      timers: realTimers,
      ...options,
      log: options.log ?? (() => undefined),
    };
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** The endpoint of the current (or last) connection. */
  get endpoint(): AgentEndpoint | undefined {
    return this.current;
  }

  onState(l: Listener<ConnectionState>) {
    return this.listen('state', l);
  }
  /** A full snapshot arrived (connect, restart, resync). */
  onSnapshot(l: Listener<Snapshot>) {
    return this.listen('snapshot', l);
  }
  /** A delta was merged into the store. */
  onDelta(l: Listener<Delta>) {
    return this.listen('delta', l);
  }

  private listen<K extends keyof AgentClient['listeners']>(kind: K, l: AgentClient['listeners'][K] extends Set<infer F> ? F : never): { dispose(): void } {
    const set = this.listeners[kind] as Set<unknown>;
    set.add(l);
    return { dispose: () => set.delete(l) };
  }

  private emit<T>(set: Set<Listener<T>>, value: T): void {
    for (const l of [...set]) {
      try {
        l(value);
      } catch (err) {
        this.o.log(`listener failed: ${(err as Error).message}`);
      }
    }
  }

  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    void this.connect();
  }

  stats(): ClientStats {
    return { sockets: this.ws ? 1 : 0, timers: this.liveTimers.size, pending: this.pending.size, ...this.counters };
  }

  /** Runs a command on the agent. Rejects with RouteLensError (agent or local code). */
  request<C extends CommandName>(command: C, args?: CommandArgs<C>, timeoutMs = this.o.requestTimeoutMs): Promise<CommandResults[C]> {
    const ws = this.ws;
    if (this.disposed) return Promise.reject(new RouteLensError('RL_ERR_DISPOSED', 'client disposed'));
    if (!ws || ws.readyState !== WebSocket.OPEN || this.stateValue !== 'connected') {
      return Promise.reject(new RouteLensError('RL_ERR_NOT_CONNECTED', `not connected to the agent (${this.stateValue})`));
    }
    const id = this.nextId++;
    return new Promise<CommandResults[C]>((resolve, reject) => {
      const timer = this.timer(() => {
        if (this.pending.delete(id)) reject(new RouteLensError('RL_ERR_TIMEOUT', `${command} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, command });
      ws.send(JSON.stringify({ type: 'command', id, command, args: args ?? {} }), (err) => {
        if (err) this.settle(id, new RouteLensError('RL_ERR_CLOSED', `send failed: ${err.message}`));
      });
    });
  }

  /** Drops the connection now and reconnects (re-reading where the agent is). */
  reconnectNow(): void {
    if (this.disposed) return;
    this.attempts = 0;
    if (this.ws) this.ws.terminate();
    else {
      this.clearTimer(this.reconnectTimer);
      this.reconnectTimer = undefined;
      void this.connect();
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clearTimer(this.reconnectTimer);
    this.clearTimer(this.pingTimer);
    this.clearTimer(this.snapshotTimer);
    this.reconnectTimer = this.pingTimer = this.snapshotTimer = undefined;
    const ws = this.ws;
    this.ws = undefined;
    if (ws) {
      ws.removeAllListeners();
      ws.on('error', () => undefined);
      ws.terminate();
    }
    this.rejectAll(new RouteLensError('RL_ERR_DISPOSED', 'client disposed'));
    for (const t of this.liveTimers) this.o.timers.clearTimeout(t);
    this.liveTimers.clear();
    this.setState('disconnected');
    for (const set of Object.values(this.listeners)) set.clear();
  }

  // ------------------------------------------------------------ internals

  private timer(fn: () => void, ms: number): unknown {
    const handle = this.o.timers.setTimeout(() => {
      this.liveTimers.delete(handle);
      fn();
    }, ms);
    this.liveTimers.add(handle);
    return handle;
  }

  private clearTimer(handle: unknown): void {
    if (handle === undefined) return;
    this.o.timers.clearTimeout(handle);
    this.liveTimers.delete(handle);
  }

  private setState(s: ConnectionState): void {
    if (s === this.stateValue) return;
    this.stateValue = s;
    this.emit(this.listeners.state, s);
  }

  private async connect(): Promise<void> {
    if (this.disposed || this.connecting || this.ws) return;
    this.connecting = true;
    this.setState(this.counters.connects === 0 && this.attempts === 0 ? 'connecting' : 'reconnecting');
    let endpoint: AgentEndpoint | undefined;
    try {
      endpoint = await this.o.resolve();
    } catch (err) {
      this.o.log(`resolve failed: ${(err as Error).message}`);
    }
    this.connecting = false;
    if (this.disposed || this.ws) return;
    if (!endpoint) {
      this.scheduleReconnect('agent not found');
      return;
    }
    this.current = endpoint;
    let ws: WebSocket;
    try {
      ws = new WebSocket(endpoint.url, {
        headers: { Authorization: `Bearer ${endpoint.token}` },
        perMessageDeflate: false,
        handshakeTimeout: this.o.handshakeTimeoutMs,
        maxPayload: 256 * 1024 * 1024,
        followRedirects: false,
      });
    } catch (err) {
      this.scheduleReconnect(`bad endpoint: ${(err as Error).message}`);
      return;
    }
    this.ws = ws;
    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.o.log(`connected to ${endpoint.url}`);
      this.alive = true;
      this.schedulePing(ws);
      this.snapshotTimer = this.timer(() => {
        this.snapshotTimer = undefined;
        if (this.ws !== ws || this.stateValue === 'connected') return;
        this.o.log('agent sent no snapshot after connecting: dropping the connection');
        ws.terminate();
      }, this.o.handshakeTimeoutMs);
    });
    ws.on('message', (data, isBinary) => {
      if (this.ws !== ws) return;
      this.alive = true;
      if (isBinary) return;
      try {
        this.handle(data.toString());
      } catch (err) {
        this.o.log(`ignored a message from the agent: ${(err as Error).message}`);
      }
    });
    ws.on('pong', () => {
      if (this.ws === ws) this.alive = true;
    });
    ws.on('ping', () => {
      if (this.ws === ws) this.alive = true; // the agent's heartbeat (ws answers it)
    });
    ws.on('unexpected-response', (_req, res) => {
      this.o.log(`agent refused the connection: HTTP ${res.statusCode}`);
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => this.o.log(`socket error: ${err.message}`));
    ws.on('close', (code) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.clearTimer(this.pingTimer);
      this.clearTimer(this.snapshotTimer);
      this.pingTimer = this.snapshotTimer = undefined;
      this.rejectAll(new RouteLensError('RL_ERR_CLOSED', 'connection closed before the agent answered'));
      if (!this.disposed) this.scheduleReconnect(`closed (${code})`);
    });
  }

  private schedulePing(ws: WebSocket): void {
    this.clearTimer(this.pingTimer);
    this.pingTimer = this.timer(() => {
      this.pingTimer = undefined;
      if (this.ws !== ws) return;
      if (!this.alive) {
        this.o.log('agent did not answer the last ping: dropping the connection');
        ws.terminate();
        return;
      }
      this.alive = false;
      try {
        ws.ping();
      } catch {
        /* closing */
      }
      this.schedulePing(ws);
    }, this.o.pingIntervalMs);
  }

  private scheduleReconnect(reason: string): void {
    if (this.disposed) return;
    this.clearTimer(this.reconnectTimer);
    const base = Math.min(this.o.maxDelayMs, this.o.initialDelayMs * 2 ** Math.min(this.attempts, 30));
    const delay = Math.max(0, Math.round(base * (1 - this.o.jitter * this.o.random())));
    this.attempts++;
    this.setState('reconnecting');
    this.o.log(`${reason}; reconnecting in ${delay} ms (attempt ${this.attempts})`);
    this.reconnectTimer = this.timer(() => {
      this.reconnectTimer = undefined;
      this.counters.reconnects++;
      void this.connect();
    }, delay);
  }

  private handle(raw: string): void {
    let msg: AgentMessage;
    try {
      msg = JSON.parse(raw) as AgentMessage;
    } catch {
      this.o.log('agent sent invalid JSON; ignored');
      return;
    }
    if (!msg || typeof msg !== 'object' || typeof (msg as { type?: unknown }).type !== 'string') return;
    switch (msg.type) {
      case 'snapshot':
        if (!msg.snapshot || !Array.isArray(msg.snapshot.endpoints)) return;
        this.store.setSnapshot(msg.snapshot, Number(msg.seq) || 0);
        this.clearTimer(this.snapshotTimer);
        this.snapshotTimer = undefined;
        this.attempts = 0;
        this.counters.connects++;
        this.setState('connected');
        // The store's state: the snapshot, plus the cache events a resync keeps.
        this.emit(this.listeners.snapshot, this.store.snapshot ?? msg.snapshot);
        return;
      case 'delta': {
        if (!msg.delta || typeof msg.delta !== 'object') return;
        const r = this.store.applyDelta(msg.delta, Number(msg.seq));
        if (r === 'gap') this.counters.sequenceGaps++;
        if (r === 'applied' || r === 'gap') this.emit(this.listeners.delta, msg.delta);
        return;
      }
      case 'reply': {
        if (typeof msg.id !== 'number') return;
        const p = this.pending.get(msg.id);
        if (!p) return;
        if (msg.ok) this.settle(msg.id, undefined, msg.result);
        else if (typeof msg.error?.code !== 'string') this.settle(msg.id, new RouteLensError('RL_ERR_BAD_REPLY', 'the agent answered an error without a code'));
        else this.settle(msg.id, new RouteLensError(msg.error.code, typeof msg.error.message === 'string' ? msg.error.message : 'agent error'));
        return;
      }
      default:
        assertNever(msg, 'agent message');
    }
  }

  private settle(id: number, err: Error | undefined, result?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    this.clearTimer(p.timer);
    if (err) p.reject(err);
    else p.resolve(result);
  }

  private rejectAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, err);
  }
}
