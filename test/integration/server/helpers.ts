/** Helpers for the local server's tests: a real agent on a real Express app, or a server on a fake host; raw requests, ws clients. */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import express from 'express';
import WebSocket from 'ws';
import { type Agent, type AgentOptions, createAgent } from '../../../agent';
import { type LocalServer, type ServerOptions, startServer } from '../../../agent/server';
import { Diagnostics, type Logger } from '../../../agent/log';
import type { AgentMessage } from '../../../protocol';
import { FakeHost } from '../../support/fake-host';

export class MemoryLogger implements Logger {
  lines: string[] = [];
  debug(m: string) {
    this.lines.push(`debug ${m}`);
  }
  info(m: string) {
    this.lines.push(`info ${m}`);
  }
  warn(m: string) {
    this.lines.push(`warn ${m}`);
  }
  error(m: string) {
    this.lines.push(`error ${m}`);
  }
}

export interface Started {
  server: LocalServer;
  host: FakeHost;
  logger: MemoryLogger;
  token: string;
  auth: Record<string, string>;
}

const open: LocalServer[] = [];
const apps: AgentApp[] = [];

/** A real agent (createAgent) on a real Express 5 app listening on a free port, and its local server. */
export interface AgentApp extends ServedApp {
  /** Sends `count` requests to the app, one after another, and waits until the agent has recorded them. */
  traffic(method: string, path: string, count: number): Promise<void>;
}

/** An app with its agent, served: what `serveAgentApp` gives. */
export interface ServedApp {
  agent: Agent;
  /** The local server's port (the HTTP API). */
  port: number;
  /** The app's port. */
  appPort: number;
  /** `http://127.0.0.1:<appPort>` */
  base: string;
  auth: Record<string, string>;
  /** Stops the agent, then the app's server and its connections. */
  close(): Promise<void>;
}

/** Listens with `app` on a free loopback port and waits for `agent`'s local server (it must start one). */
export async function serveAgentApp(agent: Agent, app: express.Express): Promise<ServedApp> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const appPort = (server.address() as AddressInfo).port;
  const ready = await agent.ready();
  if (!ready) throw new Error('the agent did not start its local server');
  return {
    agent,
    port: ready.port,
    appPort,
    base: `http://127.0.0.1:${appPort}`,
    auth: { Authorization: `Bearer ${ready.token}` },
    async close() {
      await agent.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The app: GET /users/:id, POST /orders (answers after 25 ms), GET /health, and GET /limited
 * behind a rate limiter named `api` that allows 3 requests a minute. No discovery file. Alerts are
 * evaluated every 50 ms; the process-wide rules (heap, event-loop delay, cache hit rate, rate-limited
 * share, slow requests per minute) are set out of reach, so that a busy test machine raises none and the only alerts are the
 * ones a test provokes.
 */
export async function startAgentApp(options: AgentOptions = {}): Promise<AgentApp> {
  const quiet = { heapPercent: 1, eventLoopDelayMs: 3_600_000, cacheHitRate: 0, rateLimitedShare: 1, slowPerMinute: 1_000_000 };
  const agent = createAgent({ express, discoveryDir: false, evaluateMs: 50, ...options, thresholds: { ...quiet, ...options.thresholds } });
  const app = express();
  app.use(agent.middleware());
  app.get('/users/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.post('/orders', (_req, res) => {
    setTimeout(() => res.status(201).json({ ok: true }), 25);
  });
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/limited', agent.rateLimit({ name: 'api', windowMs: 60_000, max: 3 }), (_req, res) => {
    res.json({ ok: true });
  });
  const served = await serveAgentApp(agent, app);
  const recorded = () => agent.snapshot().endpoints.reduce((n, e) => n + e.count, 0);
  const started: AgentApp = {
    ...served,
    async traffic(method, path, count) {
      const before = recorded();
      for (let i = 0; i < count; i++) await fetch(served.base + path, { method }).then((r) => r.arrayBuffer());
      await until(() => recorded() >= before + count);
    },
  };
  apps.push(started);
  return started;
}

export async function start(opts: Partial<ServerOptions> = {}, host = new FakeHost()): Promise<Started> {
  const logger = new MemoryLogger();
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const server = await startServer(host, {
    port: 0,
    host: '127.0.0.1',
    token,
    discoveryDir: false,
    name: 'test',
    version: '0.0.0-test',
    diag: new Diagnostics(logger),
    batchMs: 50,
    ...opts,
  });
  open.push(server);
  return { server, host, logger, token, auth: { Authorization: `Bearer ${token}` } };
}

/** Closes every server and agent app the tests started (call in afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all([...open.splice(0).map((s) => s.close()), ...apps.splice(0).map((a) => a.close())]);
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any -- a test reads whichever shape the route answers
}

/** node:http request with any headers (fetch forbids Host and Origin). */
export function http(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { Host: `127.0.0.1:${port}`, ...headers }, setHost: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export const jsonHeaders = (auth: Record<string, string>) => ({ ...auth, 'Content-Type': 'application/json' });

/** Writes raw bytes on a fresh TCP connection; resolves with everything read until the peer closes (or timeoutMs). */
export function raw(port: number, text: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(text);
  });
}

/** A ws client that records every message. */
export class Client {
  readonly ws: WebSocket;
  readonly messages: AgentMessage[] = [];
  closeCode: number | undefined;
  readonly opened: Promise<void>;
  readonly closed: Promise<number>;
  private waiters: Array<() => void> = [];

  constructor(url: string, headers: Record<string, string>, options: WebSocket.ClientOptions = {}) {
    this.ws = new WebSocket(url, { headers, ...options });
    this.ws.on('error', () => {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
      this.ws.once('close', () => reject(new Error('closed before open')));
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code) => {
        this.closeCode = code;
        resolve(code);
        this.wake();
      });
    });
    this.ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as AgentMessage);
      this.wake();
    });
  }

  private wake() {
    const w = this.waiters.splice(0);
    for (const f of w) f();
  }

  /** Waits for the first message (from `from` on) matching `pred`. */
  async next<T extends AgentMessage>(pred: (m: AgentMessage) => m is T, timeoutMs = 5000, from = 0): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find(pred);
      if (found) return found;
      if (this.closeCode !== undefined) throw new Error(`closed ${this.closeCode} while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  send(obj: unknown) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  /** Sends a command and waits for its reply. */
  async command(id: string | number, command: string, args?: unknown) {
    const from = this.messages.length;
    this.send({ type: 'command', id, command, ...(args === undefined ? {} : { args }) });
    return this.next((m): m is Extract<AgentMessage, { type: 'reply' }> => m.type === 'reply' && m.id === id, 5000, from);
  }
}

export const isType =
  <K extends AgentMessage['type']>(type: K) =>
  (m: AgentMessage): m is Extract<AgentMessage, { type: K }> =>
    m.type === type;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(stepMs);
  }
}
