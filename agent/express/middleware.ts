/**
 * The measuring middleware: one sample per request, from the request's announcement by its
 * server (`http.server.request.start`; the middleware's first sight for a request no Node http
 * server announced) to the response's finish (or to the connection closing first: aborted).
 * Passed alone to `app.use`, it runs at the app's entry instead of as a layer (AT_ENTRY, see
 * instrument.ts's measureAtEntry). The only header it sets is the request's `X-Request-Id`
 * (unless `requestIdHeader: false`); it never throws into the app, and calls
 * `next()` (at the entry: the app's `handle`) exactly once: if anything of its own fails it
 * counts the failure and passes the request on as if it were absent.
 *
 * Cost is the design constraint (docs/performance.md). Express's `req` and `res` are
 * megamorphic to V8 (request.ts), so every property touched on them costs a runtime lookup; this
 * middleware touches as few as it can:
 *   - its per-request state (a Pending, which is also the request's RequestState and its
 *     request context) is found through request.ts's weak map, never stored on `req`/`res`; once
 *     its sample is taken it lets go of the request and response, and stays the request's
 *     state for what reads `req.route` later;
 *   - the end of a response comes from Node's `http.server.response.finish` diagnostics
 *     channel (one subscriber for the process), not from a listener added to and removed from
 *     every response; aborts from one 'close' listener per connection (keep-alive connections
 *     carry many requests), which finds the requests still in flight on it;
 *   - the request id, URL and start time are only read when a sample asks for them (metrics
 *     does for slow requests), so a sample is only valid during `record()`.
 * Responses that are not Node's http ones (an HTTP/2 compat server) use a 'close' listener.
 */
import { subscribe } from 'node:diagnostics_channel';
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { NOT_ENTERED, type RequestContext, requestContext, requestEnded, storeAtStart, storeOutside } from '../context';
import type { MeasuringSwitch, RequestRecorder, RequestSample } from '../internal';
import type { Diagnostics } from '../log';
import { AT_ENTRY, type AppEntry, RequestState, capture, requestUrl, stateFor, track, untrack } from './request';

export interface MiddlewareOptions {
  diag: Diagnostics;
  /** Monotonic ms for durations. Default performance.now. */
  now?: () => number;
  /** While `paused` is true a request costs one branch: the middleware only passes it on. */
  measuring?: MeasuringSwitch;
  /** Answer every measured request with its id in `X-Request-Id` (the client's when sane, else generated). */
  requestIdHeader?: boolean;
}

/** Longest `url` kept in a sample (the rest is cut). */
export const MAX_URL = 2048;
const MAX_REQUEST_ID = 128;
const SANE_ID = /^[\w.:@+=/-]+$/;

type Req = IncomingMessage & { originalUrl?: string; route?: { path?: unknown } };
type Res = ServerResponse;

/** One middleware instance's request-time functions, shared by its requests. */
interface Owner {
  finish(p: Pending, aborted: boolean): void;
  readonly idPrefix: string;
}

/** The state of a request being measured: marks (RequestState), request context and sample in one object. */
class Pending extends RequestState implements RequestContext, RequestSample {
  status = 0;
  duration = 0;
  aborted = false;
  /** Node reported the response finished; the sample is taken a tick later. */
  ended = false;
  /** The sample was recorded: finish and abort then find nothing to do. */
  recorded = false;
  /** Requests in flight on the same connection (for aborts); undefined when watched by a response listener. */
  siblings: Pending[] | undefined = undefined;

  constructor(
    /** The middleware measuring this request (request.ts also holds unmeasured states, without one). */
    public readonly owner: Owner,
    public req: Req | undefined,
    public res: Res | undefined,
    method: string,
    /** `now()` at first sight. */
    public readonly t0: number,
    private readonly seq: number,
  ) {
    super();
    this.method = method;
  }

  /** The client's `x-request-id` when sane, else `<pid>-<start>-<n>`. Read from the request on demand. */
  get requestId(): string {
    const incoming = this.req?.headers['x-request-id'];
    if (typeof incoming === 'string' && incoming.length > 0 && incoming.length <= MAX_REQUEST_ID && SANE_ID.test(incoming)) return incoming;
    return this.owner.idPrefix + this.seq.toString(36);
  }

  /** Raw `originalUrl` (cut to MAX_URL); '' once the request is gone. */
  get url(): string {
    const req = this.req;
    if (req === undefined) return '';
    const url = requestUrl(req);
    return url.length > MAX_URL ? url.slice(0, MAX_URL) : url;
  }

  /**
   * Epoch ms at first sight: the wall clock now (the sample is read during record(), right at its
   * end) less the duration. Not the monotonic start plus performance.timeOrigin: the monotonic
   * clock stops while a laptop sleeps, so that sum falls behind the wall clock by every sleep.
   */
  get start(): number {
    return Date.now() - this.duration;
  }
}

// ---------------------------------------------------------------- completion, one subscriber per process copy

let subscribed = false;

function ensureSubscribed(): void {
  if (subscribed) return;
  subscribed = true;
  subscribe('http.server.request.start', onRequestStart);
  subscribe('http.server.response.finish', onResponseFinish);
}

/**
 * The requests a connection's server announced that no middleware has taken yet, and when: a
 * request's duration starts when its server hands it to the app (the HTTP edge), not when Express
 * first runs, whichever way the request reaches the middleware. One list per connection, made at
 * its first request, of one entry while the middleware takes each announcement before the next
 * (at the app's entry it takes it in the run that announced it). A pipelining client's requests
 * are announced back to back, before a middleware that something defers (a listener that calls
 * the app later, an async middleware before ours) sees the first of them: the list then grows,
 * once per connection and up to MAX_ANNOUNCED, so that each request finds its own announcement.
 * An announcement nobody takes (a request this copy of the agent does not measure) leaves at the
 * response's finish.
 */
interface Announced {
  reqs: Array<object | undefined>;
  at: Float64Array;
}
/** Most announcements one connection holds at once (the oldest gives way to a newer one). */
const MAX_ANNOUNCED = 32;
const starts = new WeakMap<object, Announced>();
const clock = performance.now.bind(performance);

function onRequestStart(message: unknown): void {
  const t = clock();
  const { request, socket } = message as { request: object; socket: object | null };
  if (socket === null || typeof socket !== 'object') return;
  let a = starts.get(socket);
  if (a === undefined) starts.set(socket, (a = { reqs: [undefined], at: new Float64Array(1) }));
  let i = a.reqs.indexOf(undefined);
  if (i < 0) i = makeRoom(a);
  a.reqs[i] = request;
  a.at[i] = t;
}

/** A free entry in a full list: a bigger list, or at MAX_ANNOUNCED the oldest announcement's. */
function makeRoom(a: Announced): number {
  const n = a.reqs.length;
  if (n < MAX_ANNOUNCED) {
    const at = new Float64Array(Math.min(n * 2, MAX_ANNOUNCED));
    at.set(a.at);
    a.at = at;
    a.reqs = a.reqs.concat(new Array<undefined>(at.length - n).fill(undefined));
    return n;
  }
  let oldest = 0;
  for (let i = 1; i < n; i++) if (a.at[i]! < a.at[oldest]!) oldest = i;
  return oldest;
}

/** When the request's server announced it (then forgotten), or `now()` when it did not (not Node's http server, or MAX_ANNOUNCED announcements ago). */
function startOf(req: object, socket: object | null, now: () => number): number {
  const a = socket === null ? undefined : starts.get(socket);
  const i = a === undefined ? -1 : a.reqs.indexOf(req);
  if (a === undefined || i < 0) return now();
  a.reqs[i] = undefined;
  return a.at[i]!;
}

/** Forgets a request's announcement (one this copy does not measure, or measures on a clock of its own). */
function forget(req: object, socket: object | null): void {
  const reqs = socket === null ? undefined : starts.get(socket)?.reqs;
  const i = reqs === undefined ? -1 : reqs.indexOf(req);
  if (reqs !== undefined && i >= 0) reqs[i] = undefined;
}

/**
 * The response was handed to the connection (Node publishes from its own first 'finish'
 * listener): the sample is taken here, with no tick or listener of its own per request.
 */
function onResponseFinish(message: unknown): void {
  const { request, socket } = message as { request: object; socket: object | null };
  const p = stateFor(request) as Partial<Pending> | undefined;
  // This copy's middleware took the announcement when it began measuring; else it is forgotten here.
  if (!(p instanceof Pending)) forget(request, socket);
  // Another copy of the agent in the process measures with its own class: duck-typed.
  if (p?.owner === undefined || p.ended) return;
  p.ended = true;
  p.owner.finish(p as Pending, false);
  releaseLater(p as Pending);
}

/** Connection → requests being measured on it. */
const inFlight = new WeakMap<object, Pending[]>();

function onSocketClose(this: object): void {
  const list = inFlight.get(this);
  if (list === undefined) return;
  inFlight.delete(this);
  for (const p of list.splice(0)) {
    p.siblings = undefined;
    if (!p.ended) p.owner.finish(p, true);
    releaseLater(p);
  }
}

function onResponseClose(this: Res): void {
  this.removeListener('close', onResponseClose);
  const p = this.req === undefined ? undefined : (stateFor(this.req) as Partial<Pending> | undefined);
  if (p?.owner !== undefined && p.res === this) {
    p.owner.finish(p as Pending, !this.writableFinished);
    releaseLater(p as Pending);
  }
}

/**
 * Requests whose sample is taken, released together once the code that ended them has run: the
 * finish channel's later subscribers (the rate limiter's route attribution) and the response's
 * other 'finish' listeners, which Node calls in the same synchronous run, still find the
 * request's state. One microtask per batch, not per request, and not a setImmediate: an
 * immediate makes the event loop run its check phase and call into JavaScript once more per
 * batch, and below saturation a batch is one or a few requests (docs/performance.md, "Where the
 * rest goes"). The microtask is a reaction to a settled promise, not `queueMicrotask`, which
 * makes an AsyncResource and a bound function per call and runs the callback inside async_hooks'
 * before/after.
 */
const releasing: Array<Pending | undefined> = [];
let toRelease = 0;
const SETTLED = Promise.resolve();

function releaseLater(p: Pending): void {
  if (toRelease === 0) void SETTLED.then(releaseAll);
  releasing[toRelease++] = p;
}

/** Never throws: a throw here would reject the reaction's promise, an unhandled rejection in the app. */
function releaseAll(): void {
  const n = toRelease;
  toRelease = 0;
  for (let i = 0; i < n; i++) {
    const p = releasing[i]!;
    releasing[i] = undefined;
    try {
      release(p);
    } catch {
      // release only clears fields and a counter: nothing of it can fail today, and a later change must not reach the app
    }
  }
}

/**
 * After the sample (or a failure to take it): the request's state is no longer held as measured,
 * and keeps nothing big (async work started by the request may hold its context long after it).
 * It stays the request's state, weakly held, so `req.route` stays readable (request.ts).
 */
function release(p: Pending): void {
  untrack(p);
  p.req = undefined;
  p.res = undefined;
}

// ---------------------------------------------------------------- the middleware

export function createMiddleware(recorder: RequestRecorder, opts: MiddlewareOptions): RequestHandler {
  const { diag } = opts;
  const measuring = opts.measuring ?? { paused: false };
  const now = opts.now ?? clock;
  /** The server's announcement is on the same clock as `now` only when it is the default. */
  const fromServer = opts.now === undefined;
  const idHeader = opts.requestIdHeader === true;
  let counter = 0;
  const owner: Owner = {
    idPrefix: `${process.pid.toString(36)}-${Date.now().toString(36)}-`,
    finish,
  };
  ensureSubscribed();

  function finish(p: Pending, aborted: boolean): void {
    try {
      if (p.owner !== owner || p.recorded) return;
      p.recorded = true;
      requestEnded(p);
      const siblings = p.siblings;
      if (siblings !== undefined) {
        p.siblings = undefined;
        // Order does not matter: the last one takes its place (no array made, unlike splice).
        const i = siblings.indexOf(p);
        if (i >= 0) {
          const last = siblings.pop()!;
          if (last !== p) siblings[i] = last;
        }
      }
      const res = p.res!;
      const status = aborted ? (res.headersSent ? res.statusCode : 0) : res.statusCode;
      p.duration = Math.max(0, now() - p.t0);
      p.status = status;
      p.aborted = aborted;
      if (status >= 500) p.threw = true;
      if (p.route === undefined) p.route = fallbackRoute(p.req!, p.mount) ?? (status === 404 || status === 0 ? undefined : answeredBy(p.req!, p.method));
      recorder.record(p);
    } catch (err) {
      diag.failure('express.record', err);
    }
  }

  /** Starts measuring a request: its state, or undefined when it is measured already or on a failure of ours. */
  function begin(req: Req, res: Res): Pending | undefined {
    try {
      const prev = stateFor(req);
      // Measured once, by the first measuring middleware (mounted twice, or two agents).
      if ((prev as Partial<Pending> | undefined)?.owner !== undefined) return undefined;
      const socket = req instanceof IncomingMessage ? (req.socket as object | null) : null;
      let t0: number;
      if (fromServer) t0 = startOf(req, socket, now);
      else {
        forget(req, socket);
        t0 = now();
      }
      const p = new Pending(owner, req, res, typeof req.method === 'string' ? req.method : 'GET', t0, ++counter);
      if (prev !== undefined) {
        // Route capture saw a mount before this middleware ran: keep what it knows.
        p.mount = prev.mount;
        p.route = prev.route;
        p.routeRef = prev.routeRef;
        p.threw = prev.threw;
      }
      watch(p, socket, res);
      track(req, p);
      if (idHeader && !res.headersSent) res.setHeader('X-Request-Id', p.requestId);
      return p;
    } catch (err) {
      diag.failure('express.middleware', err);
      return undefined;
    }
  }

  const middleware = function routelens(req: Request, res: Response, next: NextFunction): void {
    if (measuring.paused) return next();
    // As a layer of an app created before the agent: the app's routers are walked on its first request.
    if (capture.pending !== 0) discover(req, diag);
    const p = begin(req as unknown as Req, res as unknown as Res);
    // Entered only when something reads it (see context.ts: it costs every promise on Node 20).
    const store = p === undefined ? NOT_ENTERED : storeAtStart(p, req);
    if (store === NOT_ENTERED) next();
    else requestContext.run(store!, next);
  };
  const atEntry: AppEntry = (app, handle, req, res, callback) => {
    if (measuring.paused) return handle.call(app, req, res, callback);
    const p = begin(req as Req, res as Res);
    const store = p === undefined ? NOT_ENTERED : storeAtStart(p, req as Req);
    if (store === NOT_ENTERED) return handle.call(app, req, res, callback);
    return requestContext.run(store!, () => handle.call(app, req, res, callback));
  };
  atEntry.start = (req, res) => {
    const p = measuring.paused ? undefined : begin(req as Req, res as Res);
    const store = p === undefined ? storeOutside() : storeAtStart(p, req as Req);
    // Entered for the rest of this request's synchronous run and what it starts; undefined clears
    // a previous request's on the same connection.
    if (store !== NOT_ENTERED) requestContext.enterWith(store!);
  };
  Object.defineProperty(middleware, AT_ENTRY, { value: atEntry });
  return middleware;
}

/** Arranges for an abort to be seen: per connection for Node's http server, else per response. */
function watch(p: Pending, socket: object | null, res: Res): void {
  if (socket !== null && typeof socket === 'object') {
    let list = inFlight.get(socket);
    if (list === undefined) {
      list = [];
      inFlight.set(socket, list);
      (socket as { once(event: string, fn: () => void): void }).once('close', onSocketClose);
    }
    list.push(p);
    p.siblings = list;
    return;
  }
  res.on('close', onResponseClose);
}

function discover(req: object, diag: Diagnostics): void {
  try {
    for (const mod of capture.modules) mod.discover(req);
  } catch (err) {
    diag.failure('express.discover', err);
  }
}

/** A response no route gave (and not a 404): what answered it, by route capture's deepest match (attribute.ts). */
function answeredBy(req: object, method: string): string | undefined {
  for (const mod of capture.modules) {
    const route = mod.answeredBy(req, method);
    if (route !== undefined) return route;
  }
  return undefined;
}

/** Without route capture: Express's own `req.route.path`, never `req.baseUrl` (it holds real values). */
function fallbackRoute(req: Req, mount: string | undefined): string | undefined {
  const path = req.route?.path;
  if (typeof path !== 'string') return undefined;
  if (mount !== undefined) return (mount + (path === '/' ? '' : path)) || '/';
  const base = (req as { baseUrl?: unknown }).baseUrl;
  return typeof base === 'string' && base !== '' ? `…${path === '/' ? '' : path}` : path.slice(0, 512);
}
