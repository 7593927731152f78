/**
 * HTTP response caching on top of a Cache. GET/HEAD only, 2xx only, never
 * shared across users by default, never breaks the app: any failure of ours
 * passes the request through uncached. See docs/cache.md ("Response cache").
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { invalidOption } from '../errors';
import type { AppRequest, Callback, Middleware } from '../api-types';
import { capturedRoute } from '../express/request';
import type { Cache } from './index';
import { routeTag } from './tags';

export interface ResponseCacheOptions {
  /** Time to live of a cached response (ms). */
  ttl: number;
  /** Cache key for a request (default: the URL with its query, plus `vary` headers). */
  key?: Callback<[req: AppRequest], string>;
  /** Extra tags for a cached response. */
  tags?: string[] | Callback<[req: AppRequest], string[]>;
  /** Request headers whose values become part of the key (e.g. `accept-language`). */
  vary?: string[];
  /** Cache requests that carry Authorization or Cookie (one shared entry). Default false: such requests bypass the cache. */
  shareAuthenticated?: boolean;
  /** A 2xx POST/PUT/PATCH/DELETE invalidates the path's cached entries and its parent collection's. Default true. */
  invalidateOnWrite?: boolean;
  /** Key namespace. Default 'http'. */
  namespace?: string;
  /** Larger bodies are passed through uncached. Default 1 MiB. */
  maxBodyBytes?: number;
}

/**
 * A cached response as the cache stores it (in L1 and in Redis). The short
 * field names stay: they are written with every cached response, and instances
 * of two versions read each other's entries from one Redis during a rolling
 * restart. Only `storedResponse` and `readStored` touch them.
 *
 * | field | meaning                                                   |
 * | ----- | --------------------------------------------------------- |
 * | `s`   | status code                                               |
 * | `h`   | headers as `[name, value]` pairs (hop-by-hop ones left out) |
 * | `t`   | body as text, when it is valid UTF-8                     |
 * | `b`   | body as base64 otherwise (exactly one of `t` and `b`)     |
 */
interface StoredResponse {
  s: number;
  h: HeaderPairs;
  t?: string;
  b?: string;
}

type HeaderPairs = Array<[name: string, value: string | string[]]>;

/** A stored response read back: status, headers and body bytes. */
interface CachedResponse {
  status: number;
  headers: HeaderPairs;
  body: Buffer;
}

function storedResponse(status: number, headers: HeaderPairs, body: Buffer): StoredResponse {
  const text = body.toString('utf8');
  const isText = Buffer.byteLength(text) === body.length && Buffer.from(text, 'utf8').equals(body);
  return isText ? { s: status, h: headers, t: text } : { s: status, h: headers, b: body.toString('base64') };
}

/** A cached value as a response, or undefined when it is not one (written by something else under this key). */
function readStored(stored: StoredResponse): CachedResponse | undefined {
  if (stored === null || typeof stored !== 'object' || typeof stored.s !== 'number' || !Array.isArray(stored.h)) return undefined;
  const body = stored.t !== undefined ? Buffer.from(stored.t, 'utf8') : Buffer.from(stored.b ?? '', 'base64');
  return { status: stored.s, headers: stored.h, body };
}

const SKIP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'set-cookie',
  'x-cache',
  'content-length',
  'date',
]);
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const MAX_KEY_PART = 1024;

export function createResponseCache(cache: Cache, opts: ResponseCacheOptions): Middleware {
  if (opts === null || typeof opts !== 'object') throw invalidOption('options', 'an object', opts);
  if (typeof opts.ttl !== 'number' || !Number.isFinite(opts.ttl) || opts.ttl < 0) throw invalidOption('ttl', 'a finite number >= 0', opts.ttl);
  if (opts.key !== undefined && typeof opts.key !== 'function') throw invalidOption('key', 'a function', opts.key);
  if (opts.tags !== undefined && typeof opts.tags !== 'function' && !Array.isArray(opts.tags)) throw invalidOption('tags', 'an array or a function', opts.tags);
  if (opts.vary !== undefined && (!Array.isArray(opts.vary) || opts.vary.some((v) => typeof v !== 'string'))) throw invalidOption('vary', 'an array of header names', opts.vary);
  const namespace = opts.namespace ?? 'http';
  if (typeof namespace !== 'string' || namespace.length === 0 || namespace.includes(':') || namespace.length > 64) {
    throw invalidOption('namespace', 'a non-empty string without ":" of at most 64 characters', namespace);
  }
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;
  if (typeof maxBody !== 'number' || !(maxBody > 0)) throw invalidOption('maxBodyBytes', 'a positive number', maxBody);
  const vary = (opts.vary ?? []).map((h) => h.toLowerCase());
  const share = opts.shareAuthenticated === true;
  const invalidateOnWrite = opts.invalidateOnWrite !== false;
  const ttl = opts.ttl;
  const keyFn = opts.key;
  const tagsOpt = opts.tags;

  const pathTag = (path: string): string => `${namespace}|${shorten(path, 400)}`;

  const keyFor = (req: Request): string => {
    if (keyFn) return `${namespace}:${shorten(String(keyFn(req)), MAX_KEY_PART)}`;
    let k = `${namespace}:GET ${shorten(req.originalUrl ?? req.url ?? '/', MAX_KEY_PART)}`;
    for (const h of vary) {
      const v = req.headers[h];
      k += `|${h}=${shorten(Array.isArray(v) ? v.join(',') : (v ?? ''), 256)}`;
    }
    return k;
  };

  /** Key and tags of a cacheable read, or undefined to pass it through. May throw (a user key function): the caller passes through. */
  const prepareRead = (req: Request): { key: string; tags: string[] } | undefined => {
    if (!share && (req.headers.authorization !== undefined || req.headers.cookie !== undefined)) return undefined;
    // A range response is part of a body: never stored under, nor served for, the whole URL.
    if (req.headers.range !== undefined) return undefined;
    const key = keyFor(req);
    const extra = typeof tagsOpt === 'function' ? tagsOpt(req) : (tagsOpt ?? []);
    return { key, tags: [pathTag(pathOf(req)), ...extra] };
  };

  const handleRead = (req: Request, res: Response, next: NextFunction, key: string, tags: string[]): void => {
    let done = false;
    const once = (): void => {
      if (done) return;
      done = true;
      next();
    };
    let lookup: Promise<StoredResponse | undefined>;
    try {
      lookup = cache.get<StoredResponse>(key);
    } catch {
      return once();
    }
    lookup.then(
      (stored) => {
        if (done) return;
        if (stored !== undefined && !res.headersSent && serve(req, res, stored)) {
          done = true;
          return;
        }
        try {
          if (req.method === 'GET') capture(res, maxBody, (status, headers, body) => store(key, withRoute(req, tags), status, headers, body));
          else res.setHeader('X-Cache', 'MISS');
        } catch {
          /* pass through uncached */
        }
        once();
      },
      () => once(),
    ).catch(() => {
      /* next() threw inside the callback: nothing of ours left to undo */
    });
  };

  const store = (key: string, tags: string[], status: number, headers: OutgoingHttpHeaders, body: Buffer): void => {
    if (status < 200 || status > 299 || status === 206) return;
    if (headers['set-cookie'] !== undefined) return;
    // Encoded by a middleware below us (compression): what we captured is not what was sent.
    const encoding = headers['content-encoding'];
    if (encoding !== undefined && String(encoding).toLowerCase() !== 'identity') return;
    const cc = String(headers['cache-control'] ?? '').toLowerCase();
    if (cc.includes('no-store') || cc.includes('private')) return;
    const kept: HeaderPairs = [];
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || SKIP_HEADERS.has(name)) continue;
      kept.push([name, Array.isArray(value) ? value.map(String) : String(value)]);
    }
    cache.set(key, storedResponse(status, kept, body), { ttl, tags }).catch(() => {
      /* too big or not cacheable: the response already went out */
    });
  };

  const handleWrite = (req: Request, res: Response): void => {
    const path = pathOf(req);
    res.once('finish', () => {
      if (res.statusCode < 200 || res.statusCode > 299) return;
      const targets = [path];
      const parent = parentOf(path);
      if (parent !== undefined) targets.push(parent);
      for (const p of targets) cache.invalidate({ tag: pathTag(p) }).catch(() => {});
    });
  };

  const middleware = function routelensResponseCache(req: Request, res: Response, next: NextFunction): void {
    let read: { key: string; tags: string[] } | undefined;
    try {
      const method = req.method;
      if (method === 'GET' || method === 'HEAD') read = prepareRead(req);
      else if (invalidateOnWrite && WRITES.has(method)) handleWrite(req, res);
    } catch {
      read = undefined;
    }
    // handleRead never throws and calls next() at most once; everything else passes straight on.
    if (read === undefined) next();
    else handleRead(req, res, next, read.key, read.tags);
  };
  return middleware as unknown as Middleware;
}

/** Sends a stored response. False when it cannot (then the request goes on uncached). */
function serve(req: IncomingMessage, res: ServerResponse, stored: StoredResponse): boolean {
  try {
    const cached = readStored(stored);
    if (cached === undefined) return false;
    res.statusCode = cached.status;
    for (const [name, value] of cached.headers) if (!SKIP_HEADERS.has(name)) res.setHeader(name, value);
    res.setHeader('Content-Length', cached.body.length);
    res.setHeader('X-Cache', 'HIT');
    if (req.method === 'HEAD') res.end();
    else res.end(cached.body);
    return true;
  } catch {
    return false;
  }
}

type Finish = (status: number, headers: OutgoingHttpHeaders, body: Buffer) => void;

/** Patches this response's write/end to collect the body (up to maxBody) and calls finish after end. */
function capture(res: ServerResponse, maxBody: number, finish: Finish): void {
  res.setHeader('X-Cache', 'MISS');
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  const collect = (chunk: unknown, encoding: unknown): void => {
    if (tooBig || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8')
        : chunk instanceof Uint8Array
          ? Buffer.from(chunk)
          : undefined;
    if (buf === undefined) {
      tooBig = true;
      return;
    }
    size += buf.length;
    if (size > maxBody) {
      tooBig = true;
      chunks.length = 0;
      return;
    }
    chunks.push(buf);
  };
  const write = res.write;
  const end = res.end;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]): boolean {
    try {
      collect(chunk, rest[0]);
    } catch {
      tooBig = true;
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]): ServerResponse {
    res.write = write;
    res.end = end;
    try {
      collect(chunk, rest[0]);
    } catch {
      tooBig = true;
    }
    const result = (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    if (!tooBig) {
      try {
        finish(res.statusCode, res.getHeaders(), Buffer.concat(chunks));
      } catch {
        /* never reaches the app */
      }
    }
    return result;
  } as ServerResponse['end'];
}

/** The tags plus the route template's (known once the route ran), so `invalidateRoute` finds the entry. */
function withRoute(req: Request, tags: string[]): string[] {
  const path: unknown = req.route?.path;
  const template = capturedRoute(req) ?? (typeof path === 'string' ? `${req.baseUrl ?? ''}${path}` : undefined);
  return template === undefined || template.length > 400 ? tags : [...tags, routeTag(template)];
}

function pathOf(req: Request): string {
  const url = req.originalUrl ?? req.url ?? '/';
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return path || '/';
}

/** `/users/1` → `/users`; `/users` and `/` → undefined (the root is never invalidated by a write). */
function parentOf(path: string): string | undefined {
  const i = path.lastIndexOf('/');
  return i <= 0 ? undefined : path.slice(0, i);
}

function shorten(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, 64)}#${createHash('sha256').update(s).digest('hex')}`;
}
