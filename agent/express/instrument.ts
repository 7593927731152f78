/**
 * Route capture for Express 4 and 5. Routes are captured WHEN REGISTERED (Express 5's router
 * keeps no readable layer paths), by patching, once per module (a global symbol marks each
 * patched prototype):
 *
 *   Router  route() / use()            which router holds which route; routers mounted in routers
 *                                      (walked for what they held before: discover.ts); static
 *                                      mounts; the measuring middleware added as a layer
 *   Route   get/post/…/all()           one RouteEntry per method, with its registration site
 *   app     use/route/get/…/all()      which router is an app's (a root); sub-apps; front injection
 *                                      and app.use(agent.middleware()) measured at the app's entry
 *                                      (entry.ts); handler locations looked up in batches (lookup.ts)
 *   request `route` accessor           at request time, the matched route's template (attribute.ts)
 *   Layer   handle_error/handleError   the app's error path ran
 *
 * Routers built before the module was patched (before `createAgent()`) are found by walking their
 * stacks when they are mounted, when an app is first registered on, or when an app whose router
 * got the measuring middleware as a layer handles its first request (discover.ts).
 *
 * Routes NestJS registers (from `@nestjs/core`, on its app's own router) are located at their
 * controller methods and make that router a root (nest.ts).
 *
 * User handlers are never wrapped (their identity and arity stay what Express sees), and nothing
 * of ours sits between a router and the handlers it runs. Every patch does its own work in
 * try/catch (diag.failure) and then calls the original exactly once, so a failure leaves
 * Express running as if unpatched.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { RequestHandler } from 'express';
import type { RouteDefinition } from '../internal';
import { Diagnostics, silentLogger } from '../log';
import { installRequestHooks, match } from './attribute';
import { addMount, addStatic, discoverRouter, isRootPart } from './discover';
import { measureAtEntry } from './entry';
import { hookLayers } from '../spans/express';
import { captureRegistration, captureSite } from './location';
import { scheduleLookup } from './lookup';
import { claimNestRouter } from './nest';
import {
  type AnyFn,
  type AppLike,
  type ModuleState,
  type RouteEntry,
  type RouterLike,
  copyDef,
  emitEntry,
  firstDiag,
  isApp,
  isRouter,
  isStatic,
  link,
  markRoot,
  nodeOf,
  prefixesOf,
  routeInfo,
  verbs,
} from './model';
import { toPart } from './paths';
import { AT_ENTRY, capture, stateOf } from './request';

/**
 * Where route definitions go. `registerRoute` is called once per (method, full template) as soon
 * as the full path is known, and AGAIN for the same (method, route) when a location is found
 * later (the handler's definition site, or a discovered route's registration site): treat it as
 * an update. A RequestRecorder is a RouteSink.
 */
export interface RouteSink {
  registerRoute(def: RouteDefinition): void;
  /** Where internal failures are counted; silent when absent. */
  diag?: Diagnostics;
}

/** The routes known for one Express module, as seen by one sink. */
export interface RouteTable {
  /**
   * The template a request would match (`GET`, `/users/42` → `/users/:id`), or undefined. For
   * requests that never reached the router (a 429 from a limiter in front). Query strings are
   * ignored; HEAD matches GET routes, OPTIONS any route; first registered wins. Indexed
   * (route-index.ts): its cost does not grow with the number of routes.
   */
  match(method: string, path: string): string | undefined;
  /** Every full route definition known so far. */
  routes(): RouteDefinition[];
  /** Stops sending definitions to this sink (patches stay; they are shared). */
  detach(): void;
}

const PATCHED = Symbol.for('routelens.express.patched');
const STATE = Symbol.for('routelens.express.state');

/** Failures before any sink is attached go nowhere (the agent never logs unless asked). */
const fallbackDiag = new Diagnostics(silentLogger);

// ---------------------------------------------------------------- public API

/**
 * Patches an Express 4 or 5 module (idempotent per module) and attaches `target`: every route
 * registered from now on is sent to it (routes registered before are not replayed). Returns the
 * route table (call `detach()` when the agent closes), or undefined when `expressModule` is not
 * Express or could not be patched. Never throws.
 */
export function instrumentExpress(expressModule: unknown, target: RouteSink): RouteTable | undefined {
  let state: ModuleState | undefined;
  try {
    state = patch(expressModule, target.diag ?? fallbackDiag);
  } catch (err) {
    (target.diag ?? fallbackDiag).failure('express.patch', err);
  }
  if (!state) return undefined;
  // No replay of routes captured before: in a process running several agents one after the other
  // (tests), a new agent must not inherit the earlier apps' routes.
  const entry = { sink: target };
  state.sinks.add(entry);
  return {
    match: (method, path) => match(state, method, path),
    routes: () => state.order.map((f) => copyDef(f)),
    detach: () => void state.sinks.delete(entry),
  };
}

/**
 * Puts `getHandler()`'s middleware at the front of every app of this Express module, right
 * before the app's first registration (so before any user middleware). Used by the preload.
 */
export function injectMiddleware(expressModule: unknown, getHandler: () => RequestHandler | undefined, diag: Diagnostics = fallbackDiag): boolean {
  try {
    const state = patch(expressModule, diag);
    if (!state) return false;
    state.injectors.push(getHandler);
    return true;
  } catch (err) {
    diag.failure('express.patch', err);
    return false;
  }
}

/** Express modules already loaded in this process (scans the CommonJS cache; never loads anything new except the app's own `express`). */
export function findExpressModules(): unknown[] {
  const found = new Set<unknown>();
  try {
     
    const cache = require('node:module')._cache as Record<string, { exports?: unknown } | undefined>;
    for (const [file, mod] of Object.entries(cache)) {
      if (/[\\/]node_modules[\\/]express[^\\/]*[\\/]index\.js$/.test(file) && isExpress(mod?.exports)) found.add(mod!.exports);
    }
    const appRequire = createRequire(join(process.cwd(), 'noop.js'));
    const resolved = appRequire.resolve('express');
    if (cache[resolved] === undefined) found.add(appRequire(resolved));
  } catch {
    /* no express to be found */
  }
  return [...found];
}

export function isExpress(mod: unknown): boolean {
  if (typeof mod !== 'function') return false;
  const m = mod as unknown as Record<string, unknown>;
  return typeof m.Router === 'function' && typeof m.Route === 'function' && typeof m.application === 'object' && m.application !== null;
}

// ---------------------------------------------------------------- patching

function patch(expressModule: unknown, diag: Diagnostics): ModuleState | undefined {
  if (!isExpress(expressModule)) return undefined;
  const express = expressModule as {
    Router: AnyFn & { prototype?: Record<string, unknown> };
    Route: { prototype: Record<string | symbol, unknown> };
    application: Record<string | symbol, unknown>;
    request?: unknown;
  };
  // Express 5 (`router` package): methods on Router.prototype; Express 4: on the Router function itself.
  const routerProto = (typeof express.Router.prototype?.route === 'function' ? express.Router.prototype : express.Router) as Record<string | symbol, unknown>;
  const existing = routerProto[STATE] as ModuleState | undefined;
  if (existing) return existing;

  const routeProto = express.Route.prototype;
  const appProto = express.application;
  if (typeof routerProto.use !== 'function' || typeof routerProto.route !== 'function') return undefined;

  // The Layer prototype, from a throwaway router (Layer is not exported).
  const probe = (express.Router as AnyFn)() as RouterLike;
  (routerProto.use as AnyFn).call(probe, () => undefined);
  const layerProto = Object.getPrototypeOf(probe.stack[0]) as Record<string | symbol, unknown>;

  const state: ModuleState = {
    sinks: new Set(),
    fulls: new Map(),
    order: [],
    nodes: new WeakMap(),
    routes: new WeakMap(),
    known: new WeakSet(),
    appRouters: new WeakMap(),
    pendingSubApps: new WeakMap(),
    pendingRoots: new Set(),
    mounts: [],
    version: 0,
    injectors: [],
    lookups: [],
    lookupScheduled: false,
    inAppAll: 0,
    lastRoute: undefined,
    getAppRouter: (app) => {
      if (typeof app.lazyrouter === 'function') {
        app.lazyrouter();
        return app._router;
      }
      return app.router;
    },
    onLookup: (entry) => scheduleLookup(state, entry),
    fail: (code, err) => (firstDiag(state) ?? diag).failure(code, err),
  };
  const fail = state.fail;
  Object.defineProperty(routerProto, STATE, { value: state, configurable: true });

  // These wrappers hand Express its caller's own `arguments`: the same length (`app.get('setting')`
  // is a settings read, `app.get(path, fn)` a route) and no rest array allocated per call.
  /* eslint-disable prefer-rest-params */
  // ---- Router
  once(routerProto, 'route', (orig) =>
    function route(this: RouterLike, path: unknown) {
      const r = orig.apply(this, arguments as never) as object;
      try {
        onRouterRoute(state, this, r, path);
      } catch (err) {
        fail('express.route', err);
      }
      return r;
    },
  );
  once(routerProto, 'use', (orig) =>
    function use(this: RouterLike) {
      const before = Array.isArray(this.stack) ? this.stack.length : -1;
      const r = orig.apply(this, arguments as never);
      try {
        if (before >= 0) onRouterUse(state, this, arguments, before);
      } catch (err) {
        fail('express.use', err);
      }
      return r;
    },
  );

  // ---- Route verbs
  for (const verb of verbs) {
    if (typeof routeProto[verb] !== 'function') continue;
    const method = verb === 'all' ? 'ALL' : verb.toUpperCase();
    once(routeProto, verb, (orig) =>
      function routeVerb(this: object) {
        const r = orig.apply(this, arguments as never);
        if (state.inAppAll > 0) return r;
        try {
          onRouteVerb(state, this, method, arguments);
        } catch (err) {
          fail('express.verb', err);
        }
        return r;
      },
    );
  }

  // ---- application: roots, sub-apps, front injection
  for (const name of ['use', 'route', ...verbs]) {
    if (typeof appProto[name] !== 'function') continue;
    once(appProto, name, (orig) =>
      function appMethod(this: AppLike) {
        // app.get('setting') is a settings read, not a registration: leave it alone.
        if (name === 'get' && arguments.length === 1) return orig.apply(this, arguments as never);
        try {
          onAppRegistration(state, this);
        } catch (err) {
          fail('express.app', err);
        }
        if (name === 'all') return appAll(state, orig, this, arguments);
        // app.use(agent.middleware()): measured at the app's entry, no layer in its router.
        if (name === 'use' && arguments.length === 1 && measureAtEntry(this, arguments[0], fail)) return this;
        const r = orig.apply(this, arguments as never);
        if (name === 'use') {
          try {
            onAppUse(state, this, arguments);
          } catch (err) {
            fail('express.app', err);
          }
        }
        return r;
      },
    );
  }

  /* eslint-enable prefer-rest-params */

  // ---- request: the matched route's template (a `route` accessor, no wrapper in the call path)
  if (express.request !== null && typeof express.request === 'object') installRequestHooks(state, express.request);

  // ---- Layer: the error path (an error handler's own errors are the only stacks this frame is in)
  hookLayers(layerProto);
  const errName = typeof layerProto.handleError === 'function' ? 'handleError' : 'handle_error';
  once(layerProto, errName, (orig) =>
    function handleError(this: unknown, error: unknown, req: object, res: unknown, next: AnyFn) {
      try {
        if (req !== null && typeof req === 'object') stateOf(req).threw = true;
      } catch (err) {
        fail('express.layer', err);
      }
      return orig.call(this, error, req, res, next);
    },
  );
  return state;
}

/** Replaces obj[name] with make(original) unless already patched by RouteLens. */
function once(obj: Record<string | symbol, unknown>, name: string, make: (orig: AnyFn) => AnyFn): void {
  const orig = obj[name] as AnyFn & { [PATCHED]?: boolean };
  if (typeof orig !== 'function' || orig[PATCHED]) return;
  const patched = make(orig) as AnyFn & { [PATCHED]?: boolean };
  Object.defineProperty(patched, PATCHED, { value: true });
  Object.defineProperty(patched, 'length', { value: orig.length });
  obj[name] = patched;
}

// ---------------------------------------------------------------- registration

/** app.all(path, …fns): Express 4 calls every verb of the route; record one ALL entry instead. */
function appAll(state: ModuleState, orig: AnyFn, app: AppLike, args: IArguments): unknown {
  state.inAppAll++;
  state.lastRoute = undefined;
  let r: unknown;
  try {
    r = orig.apply(app, args as never);
  } finally {
    state.inAppAll--;
  }
  try {
    const route = state.lastRoute;
    state.lastRoute = undefined;
    if (route) onRouteVerb(state, route, 'ALL', Array.prototype.slice.call(args, 1));
  } catch (err) {
    state.fail('express.verb', err);
  }
  return r;
}

function onRouterRoute(state: ModuleState, router: RouterLike, route: object, path: unknown): void {
  state.lastRoute = route;
  const layer = router.stack[router.stack.length - 1];
  if (layer) state.known.add(layer);
  const methods = (route as { methods?: Record<string, unknown> }).methods;
  state.routes.set(route, routeInfo(nodeOf(state, router), toPart(path, false), methods ?? {}));
}

/** Splits use()'s arguments the way Express does: a leading non-function is the path. */
function usePath(args: ArrayLike<unknown>): { path: unknown; fns: unknown[] } {
  let offset = 0;
  let path: unknown = '/';
  const first = args[0];
  if (typeof first !== 'function') {
    let arg = first;
    while (Array.isArray(arg) && arg.length !== 0) arg = arg[0];
    if (typeof arg !== 'function') {
      offset = 1;
      path = first;
    }
  }
  return { path, fns: (Array.prototype.slice.call(args, offset) as unknown[]).flat(Infinity) };
}

function onRouterUse(state: ModuleState, router: RouterLike, args: ArrayLike<unknown>, before: number): void {
  const part = toPart(usePath(args).path, true);
  const root = isRootPart(part);
  const node = nodeOf(state, router);
  for (let i = before; i < router.stack.length; i++) {
    const layer = router.stack[i]!;
    state.known.add(layer);
    const fn = layer.handle;
    if (isRouter(fn)) link(state, node, discoverRouter(state, fn), part);
    else if (isStatic(fn)) addStatic(state, node, part, captureSite());
    else if (typeof fn === 'function' && (fn as { [AT_ENTRY]?: unknown })[AT_ENTRY] !== undefined) awaitFirstRequest(state, router);
    if (!root) addMount(state, node, part, isStatic(fn));
  }
}

/**
 * The measuring middleware added as a layer to a router not known as an app's (an app created
 * before the agent: its `use` is Express's own, not the patched one). What the router holds is
 * walked now; which app it belongs to is learnt from the first request (attribute.ts).
 */
function awaitFirstRequest(state: ModuleState, router: RouterLike): void {
  const node = discoverRouter(state, router);
  if (node.root || state.pendingRoots.has(router)) return;
  state.pendingRoots.add(router);
  capture.pending++;
}

function onRouteVerb(state: ModuleState, route: object, method: string, args: ArrayLike<unknown>): void {
  const info = state.routes.get(route);
  if (!info) return;
  const fns = (Array.prototype.slice.call(args) as unknown[]).flat(Infinity);
  const last = fns[fns.length - 1];
  const { site, byNest } = captureRegistration();
  // Registered by Nest: held back until the controller method is located (lookup.ts).
  const nest = byNest && typeof last === 'function';
  const entry: RouteEntry = {
    method,
    part: info.part,
    location: site,
    handler: typeof last === 'function' ? (last as AnyFn) : undefined,
    handlerLocation: undefined,
    fulls: [],
    node: info.node,
    discovered: false,
    deferred: nest,
    isStatic: false,
    literal: undefined,
    nest,
  };
  info.node.entries.push(entry);
  if (nest) claimNestRouter(state, info.node);
  const prefixes = prefixesOf(info.node, 0);
  if (prefixes.length) emitEntry(state, entry, prefixes);
}

function onAppRegistration(state: ModuleState, app: AppLike): void {
  if (state.appRouters.has(app)) return;
  const router = state.getAppRouter(app);
  if (!router || typeof router !== 'function') return;
  state.appRouters.set(app, router);
  const node = discoverRouter(state, router);
  const pending = state.pendingSubApps.get(app);
  if (pending) {
    state.pendingSubApps.delete(app);
    node.subApp = true;
    for (const p of pending) link(state, p.parent, node, p.part);
  }
  // An app is a root unless it gets mounted into another app in the same synchronous run
  // (a sub-app built before `parent.use('/sub', sub)`), so its routes are never reported
  // without their prefix.
  queueMicrotask(() => {
    try {
      markRoot(state, node);
    } catch (err) {
      state.fail('express.app', err);
    }
  });
  for (const getHandler of state.injectors) {
    const handler = getHandler();
    if (typeof handler === 'function' && !measureAtEntry(app, handler, state.fail)) router.use(handler);
  }
}

function onAppUse(state: ModuleState, app: AppLike, args: ArrayLike<unknown>): void {
  const { path, fns } = usePath(args);
  const parentRouter = state.appRouters.get(app);
  if (!parentRouter) return;
  const part = toPart(path, true);
  for (const fn of fns) {
    if (!isApp(fn) || isRouter(fn)) continue;
    let subRouter = state.appRouters.get(fn);
    // A sub-app created before Express was patched registers nothing through us: walk it now.
    if (!subRouter && !(fn.use as { [PATCHED]?: boolean } | undefined)?.[PATCHED] && isRouter(fn._router ?? fn.router)) {
      subRouter = (fn._router ?? fn.router) as RouterLike;
      state.appRouters.set(fn, subRouter);
      discoverRouter(state, subRouter as RouterLike);
    }
    if (subRouter) {
      const node = nodeOf(state, subRouter);
      node.subApp = true;
      link(state, nodeOf(state, parentRouter), node, part);
    } else {
      const list = state.pendingSubApps.get(fn) ?? [];
      list.push({ parent: nodeOf(state, parentRouter), part });
      state.pendingSubApps.set(fn, list);
    }
  }
}
