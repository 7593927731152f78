/** Helpers for the local server's tests: start a server on a fake host, raw requests, ws clients. */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import WebSocket from 'ws';
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

/** Closes every server the tests started (call in afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((s) => s.close()));
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): any;
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

export async function until(cond: () => boolean, timeoutMs = 5000, stepMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(stepMs);
  }
}
