/**
 * The agent's local server: HTTP JSON API, WebSocket stream at /v1/stream and
 * the discovery file, on loopback only. See docs/protocol.md.
 *
 * Failure to start never reaches the app: a port in use falls back to any free
 * port; any other listen failure resolves a disabled server (`enabled: false`).
 */
import { type IncomingMessage, type Server, createServer } from 'node:http';
import { markAgentServer } from './app-ports';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type ErrorInfo, HTTP_PATHS, MAX_CLIENT_MESSAGE_BYTES } from '../../protocol';
import type { AgentHost } from '../internal';
import type { Diagnostics } from '../log';
import { advertise } from './discovery';
import { createRequestHandler } from './http-api';
import { safeStringify } from './json';
import { type Refusal, allowedHosts, checkOrigin, createTokenCheck, isLoopbackAddress } from './security';
import { Stream, type StreamStats } from './stream';

export type { StreamStats } from './stream';
export { STATUS_BY_CODE } from './http-api';

export interface ServerOptions {
  /** 0 = any free port. */
  port: number;
  /** Default '127.0.0.1'. A non-loopback address is refused (warned, 127.0.0.1 used) unless `allowNonLoopback`. */
  host?: string;
  /** Bind a non-loopback address as given. Exposes the agent beyond this machine: only for containers/VMs you control. */
  allowNonLoopback?: boolean;
  /** Bearer token, at least 16 characters. */
  token: string;
  /** Delta batch interval, ms. Default 250. */
  batchMs?: number;
  /** Ping interval, ms; a client silent for a whole interval is dropped. Default 15000. */
  heartbeatMs?: number;
  /** Largest client frame, bytes. Default MAX_CLIENT_MESSAGE_BYTES (64 KiB). */
  maxPayload?: number;
  /** A client whose send buffer exceeds this skips deltas and is resynced with a snapshot. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Directory for agent-<pid>.json; undefined = the default (protocol/discovery.ts); false = none. */
  discoveryDir?: string | false;
  name: string;
  version: string;
  diag: Diagnostics;
  /** Time limit for one command, ms. Default 10000. */
  commandTimeoutMs?: number;
  /** Most WebSocket clients at once. Default 16. */
  maxClients?: number;
}

export interface LocalServer {
  /** False when the server could not start (port 0, url ''): the app runs on without it. */
  enabled: boolean;
  port: number;
  host: string;
  /** `http://127.0.0.1:<port>` (no token in it). */
  url: string;
  /** `ws://127.0.0.1:<port>/v1/stream`. */
  wsUrl: string;
  token: string;
  discoveryFile?: string;
  clientCount(): number;
  /** Stream counters (slow consumers, heartbeats), for diagnostics and tests. */
  stats(): StreamStats;
  /** Stops timers, closes clients (1001), the server and removes the discovery file. Idempotent. */
  close(): Promise<void>;
}

const MAX_SUBPROTOCOL_CHARS = 256;
/** Commands one WebSocket client may have running at once; bounds the replies it can queue. */
export const MAX_PENDING_COMMANDS = 8;

/** Defaults for the knobs createAgent does not expose. The user's options were checked in agent/options.ts. */
function resolve(opts: ServerOptions) {
  return {
    port: opts.port,
    batchMs: opts.batchMs ?? 250,
    heartbeatMs: opts.heartbeatMs ?? 15_000,
    maxPayload: opts.maxPayload ?? MAX_CLIENT_MESSAGE_BYTES,
    maxBufferedBytes: opts.maxBufferedBytes ?? 1024 * 1024,
    commandTimeoutMs: opts.commandTimeoutMs ?? 10_000,
    maxClients: opts.maxClients ?? 16,
  };
}

function bindAddress(opts: ServerOptions): string {
  const requested = (opts.host ?? '127.0.0.1').trim() || '127.0.0.1';
  if (requested.toLowerCase() === 'localhost') return '127.0.0.1';
  if (isLoopbackAddress(requested)) return requested.replace(/^\[|\]$/g, '');
  if (opts.allowNonLoopback) {
    opts.diag.warnOnce('ROUTELENS_WARN_NON_LOOPBACK', `the local server binds ${requested.slice(0, 100)} (allowNonLoopback): anyone who reaches it with the token can read the metrics and run commands`);
    return requested;
  }
  opts.diag.warnOnce('ROUTELENS_WARN_NON_LOOPBACK_REFUSED', `host ${JSON.stringify(requested.slice(0, 100))} ignored: the local server binds loopback addresses only, so it listens on 127.0.0.1 (allowNonLoopback: true binds the address as given)`);
  return '127.0.0.1';
}

function listen(server: Server, port: number, host: string): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.removeListener('listening', onListening);
      resolve(err);
    };
    const onListening = () => {
      server.removeListener('error', onError);
      resolve(undefined);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

function rawRefusal(socket: Duplex, status: number, info: ErrorInfo): void {
  const body = safeStringify({ error: info });
  const reason = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : status === 503 ? 'Service Unavailable' : 'Bad Request';
  if (socket.writable) {
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Cache-Control: no-store\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    // A peer that never reads must not keep the socket.
    const timer = setTimeout(() => socket.destroy(), 2000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  } else {
    socket.destroy();
  }
}

function disabledServer(token: string, host: string): LocalServer {
  return {
    enabled: false,
    port: 0,
    host,
    url: '',
    wsUrl: '',
    token,
    clientCount: () => 0,
    stats: () => ({ clients: 0, staleClients: 0, droppedDeltas: 0, resyncs: 0, maxBufferedAmount: 0, heartbeatTerminations: 0 }),
    close: async () => {},
  };
}

export async function startServer(host: AgentHost, opts: ServerOptions): Promise<LocalServer> {
  const o = resolve(opts);
  const diag = opts.diag;
  const address = bindAddress(opts);

  const server = createServer({ maxHeaderSize: 16 * 1024, requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 });
  markAgentServer(server);
  // No count limit: dropped headers could hide an Origin; size is capped by maxHeaderSize instead.
  server.maxHeadersCount = 0;
  // Bounded sockets: the editor needs a handful; a flood of idle connections is refused by the kernel backlog.
  server.maxConnections = 128;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Malformed requests and header floods: answer if we can, then drop.
    if (socket.writable && !(err.code === 'ECONNRESET')) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });

  let err = await listen(server, o.port, address);
  const portInUse = err?.code === 'EADDRINUSE' && o.port !== 0;
  if (portInUse) err = await listen(server, 0, address);
  if (err) {
    diag.warnOnce('ROUTELENS_WARN_SERVER_DISABLED', `the local server could not start (${err.code ?? err.message}); measuring goes on without it`);
    server.removeAllListeners();
    return disabledServer(opts.token, address);
  }
  // After listening: errors are counted, never thrown.
  server.on('error', (e) => diag.failure('server.http', e));

  const info = server.address();
  const port = typeof info === 'object' && info !== null ? info.port : o.port;
  if (portInUse) diag.warnOnce('ROUTELENS_WARN_PORT_IN_USE', `port ${o.port} is in use: the local server listens on port ${port} instead (the discovery file has it)`);
  const hosts = allowedHosts(port, address);
  const checkToken = createTokenCheck(opts.token);
  const check = (req: IncomingMessage): Refusal | undefined => checkOrigin(req, hosts) ?? checkToken(req);

  const stream = new Stream(host, {
    batchMs: o.batchMs,
    heartbeatMs: o.heartbeatMs,
    maxPayload: o.maxPayload,
    maxBufferedBytes: o.maxBufferedBytes,
    commandTimeoutMs: o.commandTimeoutMs,
    maxClients: o.maxClients,
    maxPendingCommands: MAX_PENDING_COMMANDS,
  }, diag);

  server.on('request', createRequestHandler({ host, diag, commandTimeoutMs: o.commandTimeoutMs, check }));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      // Every check before handleUpgrade: a refused client never joins.
      const refusal = check(req);
      if (refusal) return rawRefusal(socket, refusal.status, { code: refusal.code, message: refusal.message });
      const path = (req.url ?? '').split('?')[0];
      if (path !== HTTP_PATHS.stream) return rawRefusal(socket, 404, { code: 'ERR_NOT_FOUND', message: 'no such route' });
      const proto = req.headers['sec-websocket-protocol'];
      if (proto !== undefined && proto.length > MAX_SUBPROTOCOL_CHARS) return rawRefusal(socket, 400, { code: 'ERR_BAD_MESSAGE', message: 'Sec-WebSocket-Protocol too long' });
      if (!stream.hasRoom()) return rawRefusal(socket, 503, { code: 'ERR_UNAVAILABLE', message: 'too many clients' });
      stream.upgrade(req, socket, head);
    } catch (e) {
      diag.failure('server.upgrade', e);
      socket.destroy();
    }
  });

  const discovery = opts.discoveryDir === false ? undefined : advertise(opts.discoveryDir, { port, host: address, token: opts.token, name: opts.name, version: opts.version }, diag);

  const urlHost = address.includes(':') ? `[${address}]` : address;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      discovery?.remove();
      await stream.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      server.removeAllListeners();
    })());

  return {
    enabled: true,
    port,
    host: address,
    url: `http://${urlHost}:${port}`,
    wsUrl: `ws://${urlHost}:${port}${HTTP_PATHS.stream}`,
    token: opts.token,
    discoveryFile: discovery?.file,
    clientCount: () => stream.clientCount(),
    stats: () => stream.getStats(),
    close,
  };
}
