/**
 * The HTTP JSON API. Every request passes the
 * Host/Origin/Sec-Fetch-Site checks and the token before any route runs; every
 * command goes through parseCommandArgs + runCommand, so validation lives in
 * one place; every handler failure answers 500 JSON and the server goes on.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type CommandName,
  ENDPOINT_SORTS,
  type EndpointSort,
  type EndpointStats,
  type ErrorCode,
  type ErrorInfo,
  HTTP_PATHS,
  ProtocolError,
  WINDOWS,
  isCommandName,
  type WindowName,
} from '../../protocol';
import { validation } from '../validate';
import type { AgentHost } from '../internal';
import type { Diagnostics } from '../log';
import { errorInfo, runCommand } from './command';
import { safeStringify } from './json';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from './prometheus';
import type { Refusal } from './security';

export const MAX_BODY_BYTES = 64 * 1024;
export const DEFAULT_ENDPOINT_LIMIT = 50;
export const MAX_ENDPOINT_LIMIT = 2000;

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  ERR_BAD_JSON: 400,
  ERR_BAD_MESSAGE: 400,
  ERR_TOO_LARGE: 413,
  ERR_UNKNOWN_COMMAND: 404,
  ERR_BAD_ARGS: 400,
  ERR_NOT_FOUND: 404,
  ERR_UNAVAILABLE: 503,
  ERR_PATTERN_REJECTED: 400,
  ERR_TIMEOUT: 408,
  ERR_UNAUTHORIZED: 401,
  ERR_FORBIDDEN: 403,
  ERR_INTERNAL: 500,
};

const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
} as const;

export interface ApiContext {
  host: AgentHost;
  diag: Diagnostics;
  commandTimeoutMs: number;
  /** Host/Origin checks then token; undefined = allowed. */
  check(req: IncomingMessage): Refusal | undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly info: ErrorInfo,
    readonly headers: Record<string, string> = {},
  ) {
    super(info.message);
  }
}

const httpError = (status: number, code: ErrorCode, message: string, headers?: Record<string, string>) => new HttpError(status, { code, message }, headers);

export function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = safeStringify(body);
  res.writeHead(status, {
    ...COMMON_HEADERS,
    ...extra,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, info: ErrorInfo, extra?: Record<string, string>): void {
  sendJson(res, status, { error: info }, extra);
}

/** The `request` listener. Never throws, never rejects. */
export function createRequestHandler(ctx: ApiContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(ctx, req, res).catch((err: unknown) => {
      ctx.diag.failure('server.http', err);
      if (!res.headersSent) sendError(res, 500, { code: 'ERR_INTERNAL', message: 'internal error' });
      else res.destroy();
    });
  };
}

async function handle(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const refusal = ctx.check(req);
  if (refusal) {
    // Refused before reading the body; close so an unread body cannot linger.
    sendError(res, refusal.status, { code: refusal.code, message: refusal.message }, { Connection: 'close' });
    return;
  }
  if (req.method === 'OPTIONS') {
    sendError(res, 403, { code: 'ERR_FORBIDDEN', message: 'cross-origin requests are not supported' }, { Connection: 'close' });
    return;
  }
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    await ctx.host.settle?.();
    await route(ctx, req, res, url);
  } catch (err) {
    if (err instanceof HttpError) {
      sendError(res, err.status, err.info, err.headers);
      return;
    }
    const info = errorInfo(err);
    if (info.code === 'ERR_INTERNAL') ctx.diag.failure('server.http', err);
    sendError(res, STATUS_BY_CODE[info.code], info);
  }
}

type Method = 'GET' | 'POST' | 'PUT';

function allow(req: IncomingMessage, ...methods: Method[]): Method {
  const m = req.method as Method;
  if (methods.includes(m)) return m;
  throw httpError(405, 'ERR_BAD_MESSAGE', `method ${String(req.method).slice(0, 16)} not allowed`, { Allow: methods.join(', ') });
}

async function route(ctx: ApiContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  const q = url.searchParams;
  switch (path) {
    case HTTP_PATHS.snapshot:
      allow(req, 'GET');
      noQuery(q);
      return sendJson(res, 200, ctx.host.snapshot());
    case HTTP_PATHS.endpoints:
      allow(req, 'GET');
      return sendJson(res, 200, listEndpoints(ctx.host.snapshot().endpoints, q));
    case HTTP_PATHS.sketches:
      allow(req, 'GET');
      noQuery(q);
      return sendJson(res, 200, { endpoints: ctx.host.sketches() });
    case HTTP_PATHS.system:
      allow(req, 'GET');
      noQuery(q);
      return sendJson(res, 200, ctx.host.snapshot().system);
    case HTTP_PATHS.alerts:
      allow(req, 'GET');
      noQuery(q);
      return command(ctx, res, 'alerts.list', {});
    case HTTP_PATHS.thresholds: {
      const m = allow(req, 'GET', 'PUT', 'POST');
      noQuery(q);
      if (m === 'GET') return command(ctx, res, 'thresholds.get', {});
      return command(ctx, res, 'thresholds.set', { thresholds: await readJson(req) });
    }
    case HTTP_PATHS.reset:
      allow(req, 'POST');
      noQuery(q);
      return command(ctx, res, 'reset', await readJson(req));
    case HTTP_PATHS.cache:
      allow(req, 'GET');
      noQuery(q);
      return command(ctx, res, 'cache.stats', {});
    case HTTP_PATHS.cacheKeys: {
      allow(req, 'GET');
      const args: Record<string, unknown> = {};
      // An empty value (`?pattern=&cursor=`) means the parameter is absent.
      for (const [k, v] of readQuery(q, ['pattern', 'cursor', 'limit'])) if (v !== '') args[k] = k === 'limit' ? intParam('limit', v) : v;
      return command(ctx, res, 'cache.keys', args);
    }
    case HTTP_PATHS.cacheInvalidate:
      allow(req, 'POST');
      noQuery(q);
      return command(ctx, res, 'cache.invalidate', await readJson(req));
    case HTTP_PATHS.cacheClear:
      allow(req, 'POST');
      noQuery(q);
      return command(ctx, res, 'cache.clearNamespace', await readJson(req));
    case HTTP_PATHS.rateLimits:
      allow(req, 'GET');
      noQuery(q);
      return command(ctx, res, 'rateLimit.list', {});
    case HTTP_PATHS.pause:
    case HTTP_PATHS.resume:
      allow(req, 'POST');
      noQuery(q);
      await readJson(req, true);
      return command(ctx, res, 'measuring.set', { paused: path === HTTP_PATHS.pause });
    case HTTP_PATHS.findings:
      allow(req, 'GET');
      noQuery(q);
      return command(ctx, res, 'findings.list', {});
    case HTTP_PATHS.profile:
      allow(req, 'POST');
      noQuery(q);
      return command(ctx, res, 'profile.start', await readJson(req));
    case HTTP_PATHS.history: {
      allow(req, 'GET');
      const args: Record<string, unknown> = {};
      for (const [k, v] of readQuery(q, ['endpoint', 'from', 'to', 'resolution'])) if (v !== '') args[k] = k === 'from' || k === 'to' ? timeParam(k, v) : v;
      return command(ctx, res, 'history.get', args);
    }
    case HTTP_PATHS.baseline: {
      const m = allow(req, 'GET', 'POST');
      noQuery(q);
      if (m === 'GET') return command(ctx, res, 'baseline.compare', {});
      return command(ctx, res, 'baseline.set', await readJson(req));
    }
    case HTTP_PATHS.metrics: {
      allow(req, 'GET');
      noQuery(q);
      const text = renderMetrics(ctx.host.snapshot());
      res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    case HTTP_PATHS.command: {
      allow(req, 'POST');
      noQuery(q);
      const body = await readJson(req);
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ProtocolError('ERR_BAD_MESSAGE', 'body must be {"command": name, "args": {...}}');
      const { command: name, args, ...rest } = body as Record<string, unknown>;
      if (Object.keys(rest).length > 0) throw new ProtocolError('ERR_BAD_MESSAGE', 'body must be {"command": name, "args": {...}}');
      if (typeof name !== 'string' || !isCommandName(name)) throw new ProtocolError('ERR_UNKNOWN_COMMAND', `unknown command: ${String(name).slice(0, 64)}`);
      return command(ctx, res, name, args ?? {});
    }
    case HTTP_PATHS.traces: {
      allow(req, 'GET');
      const params = readQuery(q, ['endpoint', 'limit']);
      const limit = params.get('limit');
      return command(ctx, res, 'traces.list', { endpoint: params.get('endpoint'), ...(limit !== undefined && limit !== '' ? { limit: intParam('limit', limit) } : {}) });
    }
    default:
      break;
  }
  const endpointPrefix = HTTP_PATHS.endpoints + '/';
  if (path.startsWith(endpointPrefix)) {
    allow(req, 'GET');
    noQuery(q);
    const id = decodeSegment(path.slice(endpointPrefix.length));
    const found = ctx.host.snapshot().endpoints.find((e) => e.id === id);
    if (!found) throw new ProtocolError('ERR_NOT_FOUND', `no endpoint ${JSON.stringify(id.slice(0, 200))}`);
    // Its breakdown when the agent records spans (absent otherwise).
    const breakdown = await ctx.host.execute('endpoint.breakdown', { endpoint: id }, 'http').catch(() => undefined);
    return sendJson(res, 200, breakdown === undefined ? found : { ...found, breakdown });
  }
  const alert = /^\/v1\/alerts\/([^/]+)\/resolve$/.exec(path);
  if (alert) {
    allow(req, 'POST');
    noQuery(q);
    await readJson(req, true);
    return command(ctx, res, 'alerts.resolve', { id: decodeSegment(alert[1]!) });
  }
  throw new ProtocolError('ERR_NOT_FOUND', 'no such route');
}

async function command(ctx: ApiContext, res: ServerResponse, name: CommandName, raw: unknown): Promise<void> {
  const args = validation().parseCommandArgs(name, raw);
  const outcome = await runCommand(ctx.host, name, args, 'http', ctx.commandTimeoutMs);
  if (outcome.ok) sendJson(res, 200, outcome.result);
  else sendError(res, STATUS_BY_CODE[outcome.error.code], outcome.error);
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new ProtocolError('ERR_BAD_ARGS', 'bad percent-encoding in path');
  }
}

function noQuery(q: URLSearchParams): void {
  readQuery(q, []);
}

/** Known parameters, each at most once; anything else is ERR_BAD_ARGS. */
function readQuery(q: URLSearchParams, known: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of q) {
    if (!known.includes(k)) throw new ProtocolError('ERR_BAD_ARGS', `unknown query parameter ${JSON.stringify(k.slice(0, 64))}`);
    if (out.has(k)) throw new ProtocolError('ERR_BAD_ARGS', `query parameter ${k} given twice`);
    out.set(k, v);
  }
  return out;
}

function intParam(name: string, v: string): number {
  if (!/^\d{1,7}$/.test(v)) throw new ProtocolError('ERR_BAD_ARGS', `${name} must be a positive integer`);
  return Number(v);
}

/** Epoch ms in a query parameter. */
function timeParam(name: string, v: string): number {
  if (!/^\d{1,15}$/.test(v)) throw new ProtocolError('ERR_BAD_ARGS', `${name} must be epoch milliseconds`);
  return Number(v);
}

export function listEndpoints(all: EndpointStats[], q: URLSearchParams): { sort: EndpointSort; window: WindowName; limit: number; total: number; endpoints: EndpointStats[] } {
  const p = readQuery(q, ['sort', 'limit', 'window']);
  const sort = (p.get('sort') ?? 'slowest') as EndpointSort;
  if (!ENDPOINT_SORTS.includes(sort)) throw new ProtocolError('ERR_BAD_ARGS', `sort must be one of ${ENDPOINT_SORTS.join(', ')}`);
  const window = (p.get('window') ?? 'all') as WindowName;
  if (!WINDOWS.includes(window)) throw new ProtocolError('ERR_BAD_ARGS', `window must be one of ${WINDOWS.join(', ')}`);
  const limitRaw = p.get('limit');
  const limit = limitRaw === undefined ? DEFAULT_ENDPOINT_LIMIT : intParam('limit', limitRaw);
  if (limit < 1 || limit > MAX_ENDPOINT_LIMIT) throw new ProtocolError('ERR_BAD_ARGS', `limit must be 1..${MAX_ENDPOINT_LIMIT}`);
  const key = sort === 'slowest' ? (e: EndpointStats) => e.windows[window]?.p95 ?? 0 : (e: EndpointStats) => e.windows[window]?.count ?? 0;
  const sorted = all
    .map((e) => ({ e, k: key(e) }))
    .sort((a, b) => b.k - a.k || (a.e.id < b.e.id ? -1 : a.e.id > b.e.id ? 1 : 0))
    .slice(0, limit)
    .map((x) => x.e);
  return { sort, window, limit, total: all.length, endpoints: sorted };
}

/**
 * Reads a JSON body: `Content-Type: application/json` required for any body (a
 * browser cannot send that cross-site without a preflight), at most
 * MAX_BODY_BYTES (checked against Content-Length first, then while reading).
 * An empty body reads as `{}`, with or without a type; with `mustBeEmpty` a
 * non-empty one is refused.
 */
async function readJson(req: IncomingMessage, mustBeEmpty = false): Promise<unknown> {
  const type = req.headers['content-type'];
  // No body at all needs no type: `curl -X POST …/v1/reset` resets everything. (A browser still
  // cannot reach this cross-site: it cannot send the token header without a preflight we refuse.)
  if (type === undefined && isBodiless(req)) return {};
  if (typeof type !== 'string' || !/^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i.test(type)) {
    throw httpError(415, 'ERR_BAD_MESSAGE', 'Content-Type must be application/json', { Connection: 'close' });
  }
  const length = req.headers['content-length'];
  if (length !== undefined && !(Number(length) <= MAX_BODY_BYTES)) {
    throw httpError(413, 'ERR_TOO_LARGE', `body exceeds ${MAX_BODY_BYTES} bytes`, { Connection: 'close' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw httpError(413, 'ERR_TOO_LARGE', `body exceeds ${MAX_BODY_BYTES} bytes`, { Connection: 'close' });
    chunks.push(chunk);
  }
  if (size === 0) return {};
  if (mustBeEmpty) throw new ProtocolError('ERR_BAD_ARGS', 'this route takes no body');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ProtocolError('ERR_BAD_JSON', 'body is not valid JSON');
  }
}

/** A request that declares no body: no Transfer-Encoding, and no Content-Length or one of 0. */
function isBodiless(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0');
}
