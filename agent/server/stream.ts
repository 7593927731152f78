/**
 * The WebSocket stream at /v1/stream: a snapshot on connect, batched deltas
 * (one feed read and one serialisation per tick for every client, and nothing
 * at a tick where nothing changed), commands
 * with exactly one reply each, heartbeats, and slow-consumer handling (bad
 * input, floods and slow readers cost a socket, never the process). Its
 * timers run only while a client is
 * connected: an agent nobody watches does not wake up for the stream.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket, WebSocketServer } from 'ws';
import { type CommandArgs, type CommandName, type Delta, type ErrorInfo, assertNever } from '../../protocol';
import { validation } from '../validate';
import type { AgentHost } from '../internal';
import type { Diagnostics } from '../log';
import { runCommand } from './command';
import { safeStringify } from './json';

export interface StreamOptions {
  batchMs: number;
  heartbeatMs: number;
  maxPayload: number;
  maxBufferedBytes: number;
  commandTimeoutMs: number;
  maxClients: number;
  /** Commands one client may have running at once. */
  maxPendingCommands: number;
}

export interface StreamStats {
  clients: number;
  staleClients: number;
  /** Deltas not sent to a client because its buffer was over the limit. */
  droppedDeltas: number;
  /** Snapshots sent to clients that caught up after falling behind. */
  resyncs: number;
  /** Largest bufferedAmount seen on any client at a tick. */
  maxBufferedAmount: number;
  /** Clients terminated for missing a pong. */
  heartbeatTerminations: number;
}

interface Client {
  ws: WebSocket;
  alive: boolean;
  stale: boolean;
  pending: number;
  /** Seq of the last message this client got, so seq only increases per client. */
  lastSeq: number;
  /** Reading paused because replies filled its send buffer (resumed at a tick once drained). */
  paused: boolean;
}

const CLOSE_GOING_AWAY = 1001;

export class Stream {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private batchTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** This stream's reader of the agent's change feed, open while a client is connected. */
  private nextDelta: (() => Delta | undefined) | undefined;
  /** Delta sequence number: a snapshot carries the seq of the last delta it includes. */
  private seq = 0;
  private closed = false;
  private readonly stats: StreamStats = { clients: 0, staleClients: 0, droppedDeltas: 0, resyncs: 0, maxBufferedAmount: 0, heartbeatTerminations: 0 };

  constructor(
    private readonly host: AgentHost,
    private readonly opts: StreamOptions,
    private readonly diag: Diagnostics,
  ) {
    // ws is loaded by the first stream: the app's main thread, when the server is in the agent's worker, never loads it.
    const { WebSocketServer } = require('ws') as typeof import('ws');
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: opts.maxPayload,
      clientTracking: false,
      // Fragment flooding: far below ws's own 16 Ki default.
      maxFragments: 256,
      maxBufferedChunks: 4096,
      maxPendingAutoPongs: 8,
    } as ConstructorParameters<typeof WebSocketServer>[0]);
    this.wss.on('error', (err) => this.diag.failure('server.wss', err));
  }

  clientCount(): number {
    return this.clients.size;
  }

  getStats(): StreamStats {
    let stale = 0;
    for (const c of this.clients) if (c.stale) stale++;
    return { ...this.stats, clients: this.clients.size, staleClients: stale };
  }

  /** True when another client may join. */
  hasRoom(): boolean {
    return !this.closed && this.clients.size < this.opts.maxClients;
  }

  /** Called after the request passed every check. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.join(ws));
  }

  private join(ws: WebSocket): void {
    const client: Client = { ws, alive: true, stale: false, pending: 0, lastSeq: -1, paused: false };
    ws.on('error', () => {
      // Protocol errors (oversize frame, bad UTF-8, fragment flood): ws closes the
      // socket with the right code; this listener keeps them from reaching the process.
    });
    if (this.closed) {
      ws.close(CLOSE_GOING_AWAY, 'server closing');
      return;
    }
    if (this.clients.size === 0) this.startTimers();
    // Changes not yet sent go to the others now, so the snapshot is exactly the state after delta `seq`.
    else this.tick();
    this.clients.add(client);
    ws.on('pong', () => {
      client.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      try {
        this.onMessage(client, data, isBinary);
      } catch (err) {
        this.diag.failure('server.message', err);
        this.reply(client, null, { code: 'ERR_INTERNAL', message: 'internal error' });
      }
    });
    ws.on('close', () => this.leave(client));
    this.sendSnapshot(client, undefined);
  }

  private onMessage(client: Client, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.reply(client, null, { code: 'ERR_BAD_MESSAGE', message: 'binary frames are not part of the protocol' });
      return;
    }
    // binaryType is the default 'nodebuffer': one Buffer per message.
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : (data as Buffer).toString('utf8');
    const parsed = validation().parseClientMessage(text);
    if (!parsed.ok) {
      this.reply(client, parsed.id, parsed.error);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case 'command':
        this.runClientCommand(client, message.id, message.command, parsed.args);
        return;
      default:
        assertNever(message.type, 'client message type');
    }
  }

  private runClientCommand(client: Client, id: string | number, command: CommandName, args: CommandArgs<CommandName>): void {
    if (client.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      // The client is not reading: answer small, run nothing heavy.
      this.reply(client, id, { code: 'ERR_UNAVAILABLE', message: 'client is not reading its replies; retry later' });
      return;
    }
    if (client.pending >= this.opts.maxPendingCommands) {
      this.reply(client, id, { code: 'ERR_UNAVAILABLE', message: `too many commands in flight (max ${this.opts.maxPendingCommands})` });
      return;
    }
    client.pending++;
    const settled = this.host.settle?.() ?? Promise.resolve();
    void settled.then(() => runCommand(this.host, command, args, 'editor', this.opts.commandTimeoutMs)).then((outcome) => {
      client.pending--;
      if (outcome.ok) this.send(client, safeStringify({ type: 'reply', id, ok: true, result: outcome.result }));
      else this.reply(client, id, outcome.error);
    });
  }

  private reply(client: Client, id: string | number | null, error: ErrorInfo): void {
    this.send(client, safeStringify({ type: 'reply', id, ok: false, error }));
  }

  private send(client: Client, text: string): void {
    const ws = client.ws;
    if (ws.readyState !== ws.OPEN) return;
    ws.send(text, (err) => {
      if (err) this.diag.failure('server.send', err);
    });
    const buffered = ws.bufferedAmount;
    if (buffered > this.stats.maxBufferedAmount) this.stats.maxBufferedAmount = buffered;
    if (buffered > this.opts.maxBufferedBytes && !client.paused) {
      // Replies cannot be dropped (one per id), so stop reading commands from a
      // client that does not read its replies: memory stays bounded.
      client.paused = true;
      ws.pause();
    }
  }

  private snapshotText(): string | undefined {
    try {
      return safeStringify({ type: 'snapshot', seq: this.seq, snapshot: this.host.snapshot() });
    } catch (err) {
      this.diag.failure('server.snapshot', err);
      return undefined;
    }
  }

  /** Sends a snapshot, serialised once per tick when several clients need one. */
  private sendSnapshot(client: Client, cached: { text?: string } | undefined): void {
    const text = cached ? (cached.text ??= this.snapshotText()) : this.snapshotText();
    if (text === undefined) return;
    client.lastSeq = this.seq;
    this.send(client, text);
  }

  /** One batch tick: one feed read, one serialisation, the same string to every client. */
  tick(): void {
    if (this.closed || !this.nextDelta) return;
    let delta;
    try {
      delta = this.nextDelta();
    } catch (err) {
      this.diag.failure('server.delta', err);
      return;
    }
    let deltaText: string | undefined;
    if (delta !== undefined) {
      this.seq++;
      deltaText = safeStringify({ type: 'delta', seq: this.seq, delta });
    }
    const snapshot: { text?: string } = {};
    for (const client of this.clients) {
      const ws = client.ws;
      if (ws.readyState !== ws.OPEN) continue;
      const buffered = ws.bufferedAmount;
      if (buffered > this.stats.maxBufferedAmount) this.stats.maxBufferedAmount = buffered;
      if (client.paused && buffered <= this.opts.maxBufferedBytes) {
        client.paused = false;
        ws.resume();
      }
      if (buffered > this.opts.maxBufferedBytes) {
        // Slow consumer: drop its deltas and count them; resync later.
        if (deltaText !== undefined) {
          this.stats.droppedDeltas++;
          client.stale = true;
        }
        continue;
      }
      if (client.stale) {
        client.stale = false;
        this.stats.resyncs++;
        this.sendSnapshot(client, snapshot);
        continue;
      }
      if (deltaText !== undefined && client.lastSeq < this.seq) {
        client.lastSeq = this.seq;
        this.send(client, deltaText);
      }
    }
  }

  private heartbeat(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        // No pong since the previous ping.
        this.stats.heartbeatTerminations++;
        this.leave(client);
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      try {
        client.ws.ping();
      } catch (err) {
        this.diag.failure('server.ping', err);
      }
    }
  }

  /** The first client arrived: deltas and heartbeats start. */
  private startTimers(): void {
    // What changed while nobody watched is in the snapshot this client gets next, not in a delta.
    try {
      this.nextDelta = this.host.openFeed();
    } catch (err) {
      this.diag.failure('server.delta', err);
    }
    this.batchTimer = setInterval(() => this.tick(), this.opts.batchMs);
    this.batchTimer.unref();
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.opts.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private leave(client: Client): void {
    if (this.clients.delete(client) && this.clients.size === 0) this.stopTimers();
  }

  private stopTimers(): void {
    clearInterval(this.batchTimer);
    clearInterval(this.heartbeatTimer);
    this.batchTimer = undefined;
    this.heartbeatTimer = undefined;
    this.nextDelta = undefined;
  }

  /** Stops timers and closes every client with 1001; resolves when all are gone (terminated after a grace period). */
  async close(graceMs = 500): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimers();
    const sockets = [...this.clients].map((c) => c.ws);
    this.clients.clear();
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            const timer = setTimeout(() => ws.terminate(), graceMs);
            timer.unref();
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            ws.close(CLOSE_GOING_AWAY, 'server closing');
          }),
      ),
    );
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.wss.removeAllListeners();
  }
}
