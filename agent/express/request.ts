/**
 * What route capture and the measuring middleware know about a request in flight, kept OFF the
 * request and response objects.
 *
 * Express gives `req` and `res` a new prototype per request (`Object.setPrototypeOf`), which
 * leaves V8's inline caches on them megamorphic: in a profile of bare Express every property
 * access on them misses the stub cache and takes the runtime's slow lookup (about a
 * microsecond each on a small VM). Marks stored as properties of `req` cost one such miss per
 * read or write, plus a hidden-class transition per new property, and were most of the agent's
 * per-request cost. So the marks live in a RequestState found through a map keyed by the
 * request: a hash lookup, no inline cache, no transition.
 *
 * One WeakMap, keyed by the request, holds every state: the measuring middleware's (from its first
 * sight of the request) and the ones route capture makes for requests nobody measures (no
 * middleware, or a layer ran before it). The entry lives as long as the app holds the request,
 * so `req.route` (attribute.ts serves it from the state) reads what Express set after the
 * response too, and nothing has to delete it. Measured in the request path's CPU profile
 * (docs/performance.md, "What the agent touches"), one WeakMap set per request costs less than
 * the strong Map it replaced: a set and a delete there, then a WeakMap set to keep `req.route`
 * readable once the request left it.
 *
 * The map comes from the global symbol registry, so two copies of the agent in one process
 * (the preload bundle and `routelens/agent`) read each other's marks.
 */

/** The marks of one request. The measuring middleware's per-request state extends it. */
export class RequestState {
  /** The method the router matched with; '' for a state nobody measures (the measuring middleware's state sets it). */
  method = '';
  /** The mount template of the route that matched (`/orgs/:org`). */
  mount: string | undefined = undefined;
  /** The full template of the route that matched (`/orgs/:org/users/:id`), set when Express assigns `req.route`. */
  route: string | undefined = undefined;
  /** What Express assigned to `req.route` (route capture keeps it here and serves it back: attribute.ts). */
  routeRef: unknown = undefined;
  /** The app's error path ran (a layer's handle_error / handleError, or next(err) from a route). */
  threw = false;
  /** A measured request's state between track() and untrack(). */
  held = false;
}

interface Registry {
  states: WeakMap<object, RequestState>;
  /** Measured requests whose sample is not taken yet (for tests: 0 once every request has ended). */
  held: { count: number };
}

const REGISTRY = Symbol.for('routelens.requests.3');
const registry = globalThis as unknown as Record<symbol, Registry | undefined>;
const { states, held } = (registry[REGISTRY] ??= { states: new WeakMap(), held: { count: 0 } });

/** The request's state, if route capture or a middleware made one. */
export function stateFor(req: object): RequestState | undefined {
  return states.get(req);
}

/** The request's state, created (as unmeasured) when absent. */
export function stateOf(req: object): RequestState {
  let s = states.get(req);
  if (s === undefined) {
    s = new RequestState();
    states.set(req, s);
  }
  return s;
}

/** Makes `state` the request's, for a measured request: untrack() it when its sample is taken. */
export function track(req: object, state: RequestState): void {
  states.set(req, state);
  if (!state.held) {
    state.held = true;
    held.count++;
  }
}

/**
 * A measured request's sample was taken. Its state stays the request's (weakly held): an app
 * that reads `req.route` after responding (a handler that goes on, a deferred logger) reads what
 * Express set, as long as it holds the request.
 */
export function untrack(state: RequestState): void {
  if (!state.held) return;
  state.held = false;
  held.count--;
}

/** How many measured requests' samples are not taken yet (for tests: 0 once every request has ended). */
export function trackedCount(): number {
  return held.count;
}

/** What route capture adds to the request path, per patched Express module (attribute.ts). */
export interface CaptureModule {
  /** An app whose router got the measuring middleware as a layer: learn it from this request. */
  discover(req: object): void;
  /** For a request no route answered: the template of what did (a static mount, a mount, the route it would match). */
  answeredBy(req: object, method: string): string | undefined;
  /** The template of the route a request of `method` to `url` will reach, told from the route table (route-index.ts); undefined when none matches. */
  predict(method: string, url: string): string | undefined;
}

/** Shared by every copy of the agent in the process. `pending` > 0 while an app waits for its first request. */
export const capture: { pending: number; modules: CaptureModule[] } = ((registry as unknown as Record<symbol, { pending: number; modules: CaptureModule[] } | undefined>)[
  Symbol.for('routelens.express.capture')
] ??= { pending: 0, modules: [] });

/** The URL as the app received it (a router's `url` is relative to its mount); '' when absent. */
export function requestUrl(req: { originalUrl?: unknown; url?: unknown }): string {
  const url = req.originalUrl ?? req.url;
  return typeof url === 'string' ? url : '';
}

/**
 * The route a request will reach, told at its start from its method and URL by the first patched
 * Express module whose route table matches it; undefined when none does (a 404, or routes route
 * capture does not know). A guess: middleware may rewrite the URL, and two apps may share a path.
 * A module registered by another copy of the agent that cannot guess is skipped.
 */
export function predictRoute(method: string, req: object): string | undefined {
  const modules = capture.modules;
  let url: string | undefined;
  for (let i = 0; i < modules.length; i++) {
    const m = modules[i]!;
    if (typeof m.predict !== 'function') continue;
    const route = m.predict(method, (url ??= requestUrl(req)));
    if (route !== undefined) return route;
  }
  return undefined;
}

/** The route template route capture recorded for this request, if one matched. */
export function capturedRoute(req: object): string | undefined {
  return stateFor(req)?.route;
}

/**
 * Marks the measuring middleware: its value starts measuring a request at an app's entry and
 * runs the app (`handle`, Express's `app.handle`) exactly once. Route capture, seeing the marked
 * middleware passed alone to `app.use`, wraps that app's `handle` with it instead of adding a
 * layer to the router, so the router does not work one more layer per request (instrument.ts).
 */
export const AT_ENTRY = Symbol.for('routelens.express.atEntry');

/**
 * The value of AT_ENTRY: measure `req`, then `handle.call(app, req, res, callback)`; never throws
 * of its own. `start` only starts measuring (for a request its server is about to hand to the
 * app: the app then runs with no call of ours around it); it never throws either.
 */
export type AppEntry = ((app: unknown, handle: (req: unknown, res: unknown, callback: unknown) => unknown, req: unknown, res: unknown, callback: unknown) => unknown) & {
  start?: (req: unknown, res: unknown) => void;
};
