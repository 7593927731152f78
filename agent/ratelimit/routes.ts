/**
 * The route a limiter counts a request under, named as metrics names its
 * endpoint (`GET /users/:id`), in O(1) for every request a route answers.
 *
 * A limiter inside a route's chain runs after the router matched: route
 * capture has marked the request (one map lookup). A global limiter runs
 * before the router, so the route is not known yet when it lets a request
 * through: the request waits in a map until its response finishes (Node's
 * `http.server.response.finish` channel, one subscriber per RouteAttribution,
 * made on first use), when route capture's mark says which route ran, the one
 * metrics records. Requests no route ran for (refused by a limiter, answered by
 * a middleware before the router, 404s) are matched against the agent's route
 * table (`resolveRoute`: indexed by path segments, agent/express/route-index.ts,
 * so its cost does not grow with the number of routes); the matches of recent
 * paths are remembered, so a client refused again and again on one path costs
 * one map lookup.
 * Responses that end without that channel (aborted, HTTP/2) are counted when
 * the stats are next read.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { capturedRoute } from '../express/request';
import type { Diagnostics } from '../log';
import type { LimiterStats } from './stats';

/** What attribution reads of a request. */
export interface RoutedRequest {
  readonly method: string;
  readonly url?: string;
  readonly originalUrl?: string;
}

/** What attribution reads of a response: whether it ended (finished, or closed without finishing). */
export interface EndingResponse {
  readonly writableFinished?: boolean;
  readonly destroyed?: boolean;
}

/** Endpoint id (`GET /users/:id`), or a route template (`/users/:id`), for a method and path; undefined when no route matches. */
export type ResolveRoute = (method: string, path: string) => string | undefined;

const FINISH_CHANNEL = 'http.server.response.finish';
/** Allowed requests waiting for their response at once; beyond this (a leak guard, not a working limit) they are matched at once. */
export const MAX_WAITING = 65_536;
/** Requests held between two sweeps for responses that ended without a finish event (amortized: O(1) per request). */
const SWEEP_EVERY = 1024;
/** Paths whose table match is remembered; the memory is cleared when full. */
export const MAX_REMEMBERED = 1024;
/** Longer paths are matched every time (not remembered). */
const MAX_REMEMBERED_PATH = 512;

interface Waiting {
  /** `req.method` when the limiter let the request through. */
  readonly method: string;
  readonly res: EndingResponse;
  /** The first limiter of this registry that let the request through before routing (usually the only one). */
  readonly stats: LimiterStats;
  /** The others, if any. */
  more: LimiterStats[] | undefined;
}

export class RouteAttribution {
  readonly #resolveRoute: ResolveRoute | undefined;
  readonly #diag: Diagnostics;
  /** Called after requests are counted under their routes (the stats changed). */
  readonly #onAttributed: () => void;
  /** Request → what waits for its response to finish. */
  readonly #waiting = new Map<object, Waiting>();
  /** `METHOD path` → endpoint id, for paths the route table matched. */
  readonly #remembered = new Map<string, string>();
  #subscribed = false;
  /** Requests held since the last sweep. */
  #heldSinceSweep = 0;
  readonly #onFinish = (message: unknown): void => this.#finished(message);

  constructor(resolveRoute: ResolveRoute | undefined, diag: Diagnostics, onAttributed: () => void) {
    this.#resolveRoute = resolveRoute;
    this.#diag = diag;
    this.#onAttributed = onAttributed;
  }

  /** The route the router matched already (a limiter inside a route's chain), else undefined. */
  matched(req: RoutedRequest): string | undefined {
    const captured = capturedRoute(req);
    return captured === undefined ? undefined : `${req.method} ${captured}`;
  }

  /** The route of a request the router may never reach (a refused one): the router's match, else the route table's. */
  routeOf(req: RoutedRequest): string {
    return this.matched(req) ?? this.#tableMatch(req.method, req);
  }

  /** Counts `stats`' allowed request under its route when its response ends (call when matched() was undefined). */
  attributeOnFinish(req: RoutedRequest, res: EndingResponse, stats: LimiterStats): void {
    const waiting = this.#waiting.get(req);
    if (waiting !== undefined) {
      (waiting.more ??= []).push(stats);
      return;
    }
    if (this.#waiting.size >= MAX_WAITING) {
      stats.attributeAllowed(this.#tableMatch(req.method, req));
      return;
    }
    if (!this.#subscribed) {
      subscribe(FINISH_CHANNEL, this.#onFinish);
      this.#subscribed = true;
    }
    // Aborted requests never finish: swept now and then, so they are not held until the stats are read.
    if (++this.#heldSinceSweep >= SWEEP_EVERY) this.flush();
    this.#waiting.set(req, { method: req.method, res, stats, more: undefined });
  }

  /** Counts the requests whose responses ended without a finish event (aborted, or not Node's http). */
  flush(): void {
    this.#heldSinceSweep = 0;
    for (const [req, waiting] of this.#waiting) {
      if (waiting.res.writableFinished !== true && waiting.res.destroyed !== true) continue;
      this.#waiting.delete(req);
      this.#attribute(req as RoutedRequest, waiting);
    }
  }

  /** Requests in flight waiting for their route (for tests). */
  get waiting(): number {
    return this.#waiting.size;
  }

  close(): void {
    if (this.#subscribed) unsubscribe(FINISH_CHANNEL, this.#onFinish);
    this.#subscribed = false;
    this.#waiting.clear();
    this.#remembered.clear();
  }

  #finished(message: unknown): void {
    const req = (message as { request?: object } | null)?.request;
    if (req === undefined) return;
    const waiting = this.#waiting.get(req);
    if (waiting === undefined) return;
    this.#waiting.delete(req);
    this.#attribute(req as RoutedRequest, waiting);
  }

  /** Bookkeeping never reaches the app: a failure is counted and the request is not. */
  #attribute(req: RoutedRequest, waiting: Waiting): void {
    try {
      const captured = capturedRoute(req);
      const route = captured === undefined ? this.#tableMatch(waiting.method, req) : `${waiting.method} ${captured}`;
      waiting.stats.attributeAllowed(route);
      if (waiting.more !== undefined) for (const stats of waiting.more) stats.attributeAllowed(route);
      this.#onAttributed();
    } catch (err) {
      this.#diag.failure('ratelimit.stats', err);
    }
  }

  /** The route table's match for the request's full path (without its query), else `METHOD (unmatched)`. */
  #tableMatch(method: string, req: RoutedRequest): string {
    const resolve = this.#resolveRoute;
    if (resolve === undefined) return `${method} (unmatched)`;
    const path = pathOf(req);
    const memoKey = path.length <= MAX_REMEMBERED_PATH ? `${method} ${path}` : undefined;
    if (memoKey !== undefined) {
      const known = this.#remembered.get(memoKey);
      if (known !== undefined) return known;
    }
    try {
      const route = resolve(method, path);
      if (route === undefined) return `${method} (unmatched)`;
      const id = route.startsWith('/') ? `${method} ${route}` : route;
      // Only matches are remembered: a route registered later may match a path that matched nothing before.
      if (memoKey !== undefined) {
        if (this.#remembered.size >= MAX_REMEMBERED) this.#remembered.clear();
        this.#remembered.set(memoKey, id);
      }
      return id;
    } catch (err) {
      this.#diag.failure('ratelimit.resolveRoute', err);
      return `${method} (unmatched)`;
    }
  }
}

/** The request's full path (`originalUrl`: a limiter mounted at `/api` sees `req.url` without it), without query or fragment. */
function pathOf(req: RoutedRequest): string {
  const url = req.originalUrl ?? req.url ?? '/';
  const end = url.search(/[?#]/);
  return end < 0 ? url : url.slice(0, end);
}
