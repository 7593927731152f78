/** Shared helpers for the Express integration tests (not a test file). */
import { type IncomingHttpHeaders, type RequestListener, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { RequestRecorder, RequestSample, RouteDefinition } from '../../../agent/internal';

/** Both Express majors, every case runs on each. */
export const versions: Array<[string, unknown]> = [
   
  ['express4', require('express4')],
   
  ['express5', require('express')],
];

export interface MemoryRecorder extends RequestRecorder {
  defs: RouteDefinition[];
  samples: RequestSample[];
  /** The latest definition of `METHOD /route`. */
  def(key: string): RouteDefinition | undefined;
}

export function memoryRecorder(): MemoryRecorder {
  const defs: RouteDefinition[] = [];
  const samples: RequestSample[] = [];
  return {
    defs,
    samples,
    registerRoute: (d) => void defs.push(d),
    // A sample is only valid during record() (its url and request id are read on demand): copy it.
    record: (s) => void samples.push({ method: s.method, route: s.route, status: s.status, duration: s.duration, aborted: s.aborted, threw: s.threw, url: s.url, requestId: s.requestId, start: s.start }),
    def: (key) => [...defs].reverse().find((d) => `${d.method} ${d.route}` === key),
  };
}

export interface Running {
  port: number;
  close(): Promise<void>;
}

/** Serves an app (or any request listener: one that does something before the app, say) on a free loopback port. */
export async function listen(app: Express | RequestListener): Promise<Running> {
  const server = createServer(app as RequestListener).listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export function get(port: number, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves once `check()` is true (polling), or rejects after `ms`. */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Headers that legitimately differ between two runs. */
export function stableHeaders(h: IncomingHttpHeaders): IncomingHttpHeaders {
  // `x-request-id`: the correlation id the agent answers with by design (`requestIdHeader`), different per request.
  const { date: _date, 'x-request-id': _id, ...rest } = h;
  return rest;
}

/**
 * A fresh, never-instrumented copy of an Express major (its whole dependency tree loaded
 * anew, then the module cache restored), for "byte-identical to a run without the agent".
 */
export function pristineExpress(name: string): unknown {
  const saved = new Map(Object.entries(require.cache));
  for (const key of saved.keys()) if (key.includes('/node_modules/')) delete require.cache[key];
  try {
     
    return require(name === 'express4' ? 'express4' : 'express');
  } finally {
    for (const key of Object.keys(require.cache)) if (key.includes('/node_modules/')) delete require.cache[key];
    for (const [key, mod] of saved) require.cache[key] = mod;
  }
}

/** The line of `marker` in a file and the column of `call` on that line (1-based). */
export function markerLocation(source: string, marker: string, call: string): { line: number; column: number } {
  const lines = source.split('\n');
  const index = lines.findIndex((l) => l.includes(`@loc ${marker}`));
  if (index < 0) throw new Error(`marker ${marker} not found`);
  const column = lines[index]!.indexOf(call);
  if (column < 0) throw new Error(`call ${call} not on the ${marker} line`);
  return { line: index + 1, column: column + 1 };
}
