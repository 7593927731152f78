/**
 * What route capture and the measuring middleware know about a request in flight, kept OFF the
 * request and response objects.
 *
 * Express gives `req` and `res` a new prototype per request (`Object.setPrototypeOf`), which
 * leaves V8's inline caches on them megamorphic: in a profile of bare Express every property
 * access on them misses the stub cache and takes the runtime's slow lookup (about a
 * microsecond each on a small VM). Marks stored as properties of `req` cost one such miss per
 * read or write, plus a hidden-class transition per new property, and were most of the agent's
 * per-request cost. So the marks live in a RequestState found through one WeakMap keyed by the
 * request: a hash lookup, no inline cache, no transition, and gone with the request.
 *
 * The WeakMap comes from the global symbol registry, so two copies of the agent in one process
 * (the preload bundle and `routelens/agent`) read each other's marks.
 */

/** The marks of one request. The measuring middleware's per-request state extends it. */
export class RequestState {
  /** The mount template of the router being run (`/orgs/:org`), set and restored as routers are entered and left. */
  mount: string | undefined = undefined;
  /** The full template of the route that ran (`/orgs/:org/users/:id`). */
  route: string | undefined = undefined;
  /** The app's error path ran (a layer's handle_error / handleError, or next(err) from a route). */
  threw = false;
}

const REGISTRY = Symbol.for('routelens.requests');
const registry = globalThis as unknown as Record<symbol, WeakMap<object, RequestState> | undefined>;

/** Request → its state. */
export const requestStates: WeakMap<object, RequestState> = (registry[REGISTRY] ??= new WeakMap());

/** The request's state, created when absent. */
export function stateOf(req: object): RequestState {
  let s = requestStates.get(req);
  if (s === undefined) {
    s = new RequestState();
    requestStates.set(req, s);
  }
  return s;
}

/** The route template route capture recorded for this request, if one matched. */
export function capturedRoute(req: object): string | undefined {
  return requestStates.get(req)?.route;
}

/**
 * Marks the measuring middleware: its value starts measuring a request at an app's entry and
 * runs the app (`handle`, Express's `app.handle`) exactly once. Route capture, seeing the marked
 * middleware passed alone to `app.use`, wraps that app's `handle` with it instead of adding a
 * layer to the router, so the router does not work one more layer per request (instrument.ts).
 */
export const AT_ENTRY = Symbol.for('routelens.express.atEntry');

/** The value of AT_ENTRY: measure `req`, then `handle.call(app, req, res, callback)`; never throws of its own. */
export type AppEntry = (app: unknown, handle: (req: unknown, res: unknown, callback: unknown) => unknown, req: unknown, res: unknown, callback: unknown) => unknown;
