/**
 * The measuring middleware: one RequestSample per request, from the middleware's first sight
 * of the request to the response's `close` (which follows `finish` by a tick; marked aborted
 * when the response did not finish). It enters the request context for the rest of the chain (once something reads
 * it: context.ts), never sets headers,
 * never throws into the app, and calls `next()` exactly once: if anything of its own fails it
 * counts the failure and calls `next()` as if it were absent.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type RequestContext, contextEntered, requestContext, requestEnded, requestStarted } from '../context';
import type { RequestRecorder, RequestSample } from '../internal';
import type { Diagnostics } from '../log';
import { MOUNT, type MarkedRequest, ROUTE, THREW } from './request';

export interface MiddlewareOptions {
  diag: Diagnostics;
  /** Epoch ms (sample.start). Default Date.now. */
  clock?: () => number;
  /** Monotonic ms for durations. Default performance.now. */
  now?: () => number;
}

/** Longest `url` kept in a sample (the rest is cut; reliability bar 23). */
export const MAX_URL = 2048;
const MAX_REQUEST_ID = 128;
const SANE_ID = /^[\w.:@+=/-]+$/;

const STATE = Symbol.for('routelens.res.state');

/**
 * The request context and what the middleware keeps until the response closes: one object per
 * request. `req` is dropped on close, since async work started by the request may hold the
 * context (the cache's attribution) long after it.
 */
interface Pending extends RequestContext {
  req: PendingRequest | undefined;
  start: number;
  startEpoch: number;
}

type PendingRequest = IncomingMessage & MarkedRequest & { originalUrl?: string; route?: { path?: unknown } };

type Res = ServerResponse & { [STATE]?: Pending };

export function createMiddleware(recorder: RequestRecorder, opts: MiddlewareOptions): RequestHandler {
  const { diag } = opts;
  const clock = opts.clock ?? Date.now;
  const now = opts.now ?? performance.now.bind(performance);
  const idPrefix = `${process.pid.toString(36)}-${Date.now().toString(36)}-`;
  let counter = 0;

  // One 'close' listener per request, the same function for every request (no once() wrapper):
  // a ServerResponse emits 'close' after 'finish' (in the next tick) and also when the
  // connection goes away first; `writableFinished` tells the two apart.
  function onClose(this: Res): void {
    try {
      this.removeListener('close', onClose);
      const p = this[STATE];
      if (p === undefined) return;
      this[STATE] = undefined;
      requestEnded();
      const status = this.headersSent ? this.statusCode : 0;
      const req = p.req!;
      p.req = undefined;
      const sample: RequestSample = {
        method: p.method,
        route: req[ROUTE] ?? fallbackRoute(req),
        status,
        duration: Math.max(0, now() - p.start),
        aborted: !this.writableFinished,
        threw: req[THREW] === true || status >= 500,
        url: urlOf(req),
        requestId: p.requestId,
        start: p.startEpoch,
      };
      recorder.record(sample);
    } catch (err) {
      diag.failure('express.record', err);
    }
  }

  return function routelens(req: Request, res: Response, next: NextFunction): void {
    let ctx: Pending | undefined;
    try {
      const r = res as unknown as Res;
      if (r[STATE] === undefined) {
        const start = now();
        const incoming = req.headers['x-request-id'];
        const requestId =
          typeof incoming === 'string' && incoming.length > 0 && incoming.length <= MAX_REQUEST_ID && SANE_ID.test(incoming)
            ? incoming
            : idPrefix + (++counter).toString(36);
        ctx = {
          method: typeof req.method === 'string' ? req.method : 'GET',
          route: undefined,
          requestId,
          req: req as unknown as PendingRequest,
          start,
          startEpoch: clock(),
        };
        r[STATE] = ctx;
        r.on('close', onClose);
        requestStarted();
      }
    } catch (err) {
      diag.failure('express.middleware', err);
      ctx = undefined;
    }
    // The context is entered only once something reads it (see context.ts: it costs every promise on Node 20).
    if (ctx === undefined || !contextEntered()) next();
    else requestContext.run(ctx, next);
  };
}

/** Without route capture: Express's own `req.route.path`, never `req.baseUrl` (it holds real values). */
function fallbackRoute(req: PendingRequest): string | undefined {
  const path = req.route?.path;
  if (typeof path !== 'string') return undefined;
  const mount = req[MOUNT];
  if (mount !== undefined) return (mount + (path === '/' ? '' : path)) || '/';
  const base = (req as { baseUrl?: unknown }).baseUrl;
  return typeof base === 'string' && base !== '' ? `…${path === '/' ? '' : path}` : path.slice(0, 512);
}

function urlOf(req: PendingRequest): string {
  const url = req.originalUrl ?? req.url ?? '';
  return url.length > MAX_URL ? url.slice(0, MAX_URL) : url;
}
