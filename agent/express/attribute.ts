/**
 * Route capture at request time: which endpoint a request counts under.
 *
 * A matched route. Express assigns `req.route` when its router matches a route (both majors,
 * right before running it). Route capture makes `route` an accessor on the module's request
 * prototype (`express.request`, which every app's requests inherit): the setter keeps the value
 * in the request's state (request.ts) and writes the full template there, the getter serves the
 * value back, so `req.route` reads as before. No wrapper sits in the request's call path, so the
 * app's stack traces are what they are without the agent. Per matched route: one map lookup for
 * the state, one for the route, and cached templates (rebuilt only when routers are re-linked);
 * `req.baseUrl` / `req.url` are read only when a router is mounted at several prefixes or a
 * route has several paths.
 *
 * The method. The state keeps the method the request arrived with; when the matched route does
 * not handle it, something rewrote `req.method` before the router matched (method-override), and
 * the method the router matched with is read and recorded instead.
 *
 * Answered by something else (answeredBy, at sample time, only for a response that is not a 404
 * and matched no route): the deepest match wins. A static mount (`GET /public/*`), then the route
 * the request would have matched (a limiter's 429, an API key's 401 in front of the router, or
 * Express's automatic OPTIONS answer: the same route the rate limiter's stats name), then the
 * mount the request is still inside (`req.baseUrl`), then an `express.static` at the app's root.
 * What matches nothing stays unmatched.
 */
import type { Alt } from './paths';
import { truncate } from '../text';
import { MAX_TEMPLATE, exact, templateOf } from './paths';
import { type CaptureModule, type RequestState, capture, stateFor, stateOf } from './request';
import { discoverRouter } from './discover';
import { RouteIndex, reaches } from './route-index';
import { type AppLike, LOWER, type ModuleState, type RouteInfo, fullsOf, isApp, isRouter, markRoot, nodeOf, prefixesOf } from './model';

const MAX_DISCOVERY_TRIES = 1_000;
const MAX_PATH = 8192;

/**
 * Makes `req.route` an accessor of the module's request prototype and registers the module's
 * request-time hooks. False (templates then come from Express's own `req.route.path`) when the
 * prototype already defines `route`.
 */
export function installRequestHooks(state: ModuleState, requestProto: object): boolean {
  if (Object.getOwnPropertyDescriptor(requestProto, 'route') !== undefined) return false;
  Object.defineProperty(requestProto, 'route', {
    configurable: true,
    enumerable: false,
    get(this: object) {
      return stateFor(this)?.routeRef;
    },
    set(this: object, value: unknown) {
      onRoute(state, this, value);
    },
  });
  let tries = 0;
  const mod: CaptureModule = {
    discover: (req) => {
      if (state.pendingRoots.size === 0 || !Object.prototype.isPrototypeOf.call(requestProto, req)) return;
      if (++tries > MAX_DISCOVERY_TRIES) return forgetPending(state);
      discoverFrom(state, req);
    },
    answeredBy: (req, method) => (Object.prototype.isPrototypeOf.call(requestProto, req) ? answeredBy(state, req, method) : undefined),
    predict: (method, url) => predict(state, method, url),
  };
  capture.modules.push(mod);
  return true;
}

// ---------------------------------------------------------------- a matched route

function onRoute(state: ModuleState, req: object, route: unknown): void {
  const s = stateOf(req);
  s.routeRef = route;
  if (typeof route !== 'object' || route === null) return;
  try {
    const info = state.routes.get(route);
    if (info !== undefined) mark(state, s, info, req);
  } catch (err) {
    state.fail('express.layer', err);
  }
}

function mark(state: ModuleState, s: RequestState, info: RouteInfo, req: object): void {
  if (info.version !== state.version) templates(state, info);
  if (info.route !== undefined) {
    s.mount = info.mount;
    s.route = info.route;
  } else {
    const m = info.many;
    if (m === undefined) return; // not reachable from an app (yet): Express's own route path is used
    const alts = info.part.length;
    const pi = m.prefixes.length === 1 ? 0 : pick((m.prefixMatchers ??= m.prefixes.map((p) => compile(p.source))), (req as { baseUrl?: unknown }).baseUrl);
    const ai = alts === 1 ? 0 : pick((m.altMatchers ??= info.part.map((a) => compile(a.source))), pathOf((req as { url?: unknown }).url));
    const mount = m.prefixes[pi]!.text;
    s.mount = mount === '' ? undefined : mount;
    s.route = m.routes[pi * alts + ai];
  }
  const method = s.method;
  if (method === '') return;
  const lower = LOWER.get(method);
  const methods = info.methods;
  if (lower === undefined || (methods._all !== true && methods[lower] !== true)) {
    const actual = (req as { method?: unknown }).method;
    if (typeof actual === 'string') s.method = actual;
  }
}

/** Builds `info`'s templates for the routers' links as they are now. */
function templates(state: ModuleState, info: RouteInfo): void {
  const prefixes = prefixesOf(info.node, 0);
  const template = (p: Alt, a: Alt): string => templateOf(truncate(p.text + a.text, MAX_TEMPLATE));
  info.version = state.version;
  info.route = info.mount = info.many = undefined;
  if (prefixes.length === 1 && info.part.length === 1) {
    const mount = prefixes[0]!.text;
    info.route = template(prefixes[0]!, info.part[0]!);
    info.mount = mount === '' ? undefined : mount;
  } else if (prefixes.length > 0) {
    const routes: string[] = [];
    for (const p of prefixes) for (const a of info.part) routes.push(template(p, a));
    info.many = { prefixes, routes: exact(routes), prefixMatchers: undefined, altMatchers: undefined };
  }
}

function compile(source: string): RegExp | undefined {
  try {
    return new RegExp(`^${source}\\/?$`, 'i');
  } catch {
    return undefined;
  }
}

function pick(matchers: Array<RegExp | undefined>, text: unknown): number {
  if (typeof text !== 'string') return 0;
  for (let i = 0; i < matchers.length; i++) if (matchers[i]?.test(text)) return i;
  return 0;
}

function pathOf(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  const q = url.search(/[?#]/);
  return q < 0 ? url : url.slice(0, q);
}

// ---------------------------------------------------------------- what the route table matches

/** Each module's route index (route-index.ts), brought up to date with its table on use. */
const routeIndexes = new WeakMap<ModuleState, RouteIndex>();

/**
 * The template a request would match: method and path (query ignored); HEAD matches GET, OPTIONS any method.
 * Through the route index: independent of how many routes are registered.
 */
export function match(state: ModuleState, method: string, path: string): string | undefined {
  try {
    const m = String(method).toUpperCase();
    const p = pathOf(String(path))!;
    if (p.length > MAX_PATH) return undefined;
    const first = indexOf(state).first(state.order, p, (full) => reaches(full, m));
    return first < 0 ? undefined : state.order[first]!.route;
  } catch {
    /* unknown */
  }
  return undefined;
}

/** `match` guessed at a request's start, from its method and URL as received (the spans' sampler: RouteIndex.guess). */
function predict(state: ModuleState, method: string, url: string): string | undefined {
  try {
    if (url.length > MAX_PATH) return undefined;
    const i = indexOf(state).guess(state.order, url, method);
    return i < 0 ? undefined : state.order[i]!.route;
  } catch {
    return undefined;
  }
}

/** The module's route index, brought up to date with its table. */
function indexOf(state: ModuleState): RouteIndex {
  let index = routeIndexes.get(state);
  if (index === undefined) routeIndexes.set(state, (index = new RouteIndex()));
  index.update(state.order);
  return index;
}

// ---------------------------------------------------------------- answered by something else

interface MountTemplate {
  text: string;
  matcher: RegExp | undefined;
  isStatic: boolean;
}
const mountCaches = new WeakMap<ModuleState, { version: number; list: MountTemplate[] }>();

function answeredBy(state: ModuleState, req: object, method: string): string | undefined {
  const r = req as { baseUrl?: unknown; originalUrl?: unknown; url?: unknown; app?: unknown };
  const base = typeof r.baseUrl === 'string' ? r.baseUrl : '';
  const mount = base === '' ? undefined : mountAt(state, base);
  if (mount?.isStatic) return templateOf(mount.text + '/*');
  const url = typeof r.originalUrl === 'string' ? r.originalUrl : r.url;
  const route = typeof url === 'string' ? match(state, method, url) : undefined;
  if (route !== undefined) return route;
  if (mount !== undefined) return templateOf(mount.text + '/*');
  if (base === '' && (method === 'GET' || method === 'HEAD')) return rootStatic(state, r.app);
  return undefined;
}

/** The deepest known mount whose full template matches `req.baseUrl` (the prefix a request is still inside). */
function mountAt(state: ModuleState, baseUrl: string): MountTemplate | undefined {
  let cache = mountCaches.get(state);
  if (cache === undefined || cache.version !== state.version) {
    const list: MountTemplate[] = [];
    for (const m of state.mounts) {
      const prefixes: Alt[] = prefixesOf(m.node, 0);
      for (const p of prefixes) for (const a of m.part) list.push({ text: truncate(p.text + a.text, MAX_TEMPLATE), matcher: compile(p.source + a.source), isStatic: m.isStatic });
    }
    list.sort((a, b) => b.text.length - a.text.length);
    cache = { version: state.version, list };
    mountCaches.set(state, cache);
  }
  if (baseUrl.length > MAX_PATH) return undefined;
  return cache.list.find((m) => m.matcher?.test(baseUrl));
}

function rootStatic(state: ModuleState, app: unknown): string | undefined {
  if (!isApp(app)) return undefined;
  const router = state.appRouters.get(app) ?? routerOf(app);
  const node = router === undefined ? undefined : state.nodes.get(router);
  const entry = node?.entries.find((e) => e.isStatic && e.part.length === 1 && e.part[0]!.text === '/*');
  return entry === undefined ? undefined : fullsOf(entry)[0]?.route;
}

/** An app's router without creating one (Express 4 `_router`; Express 5 creates it on first read, and it exists once requests arrive). */
function routerOf(app: AppLike): object | undefined {
  const router = app._router ?? app.router;
  return isRouter(router) ? router : undefined;
}

// ---------------------------------------------------------------- apps found by their first request

function discoverFrom(state: ModuleState, req: object): void {
  try {
    const app = (req as { app?: unknown }).app;
    if (!isApp(app)) return;
    const router = routerOf(app);
    if (router === undefined) return;
    const node = discoverRouter(state, router as never);
    state.appRouters.set(app, router);
    if (app.parent === undefined) markRoot(state, node);
    if (state.pendingRoots.delete(router)) capture.pending--;
    // A middleware added to a router that has since been mounted waits no more.
    for (const pending of state.pendingRoots) {
      if (prefixesOf(nodeOf(state, pending), 0).length > 0 && state.pendingRoots.delete(pending)) capture.pending--;
    }
  } catch (err) {
    state.fail('express.discover', err);
    forgetPending(state);
  }
}

function forgetPending(state: ModuleState): void {
  capture.pending = Math.max(0, capture.pending - state.pendingRoots.size);
  state.pendingRoots.clear();
}
