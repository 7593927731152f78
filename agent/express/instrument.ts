/**
 * Route capture for Express 4 and 5. Routes are captured WHEN REGISTERED (Express 5's router
 * keeps no readable layer paths), by patching, once per module (a global symbol marks each
 * patched prototype):
 *
 *   Router  route() / use()            which router holds which route; routers mounted in routers
 *   Route   get/post/…/all()           one RouteEntry per method, with its registration site
 *   app     use/route/get/…/all()      which router is an app's (a root); sub-apps; front injection
 *                                      and app.use(agent.middleware()) measured at the app's entry
 *   Layer   handle_request/handleRequest, handle_error/handleError
 *                                      at request time: mount templates set and restored, the
 *                                      route template and the error path recorded in the
 *                                      request's state (request.ts: never on `req` itself)
 *
 * User handlers are never wrapped (their identity and arity stay what Express sees). Every patch
 * does its own work in try/catch (diag.failure) and then calls the original exactly once, so a
 * failure leaves Express running as if unpatched.
 */
import { METHODS } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { RequestHandler } from 'express';
import type { SourceLocation } from '../../protocol';
import type { RouteDefinition } from '../internal';
import { Diagnostics, silentLogger } from '../log';
import { captureSite, functionLocations, sameLine } from './location';
import { type Alt, MAX_TEMPLATE, type PathPart, compileMatcher, joinParts, templateOf, toPart } from './paths';
import { truncate } from '../text';
import { AT_ENTRY, type AppEntry, stateFor, stateOf } from './request';

/**
 * Where route definitions go. `registerRoute` is called once per (method, full template) as soon
 * as the full path is known, and AGAIN for the same (method, route) when the handler's own
 * definition site is found later (the second call carries `handlerLocation`): treat it as an
 * update. A RequestRecorder is a RouteSink.
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
   * ignored; HEAD matches GET routes; first registered wins. O(routes).
   */
  match(method: string, path: string): string | undefined;
  /** Every full route definition known so far. */
  routes(): RouteDefinition[];
  /** Stops sending definitions to this sink (patches stay; they are shared). */
  detach(): void;
}

// ---------------------------------------------------------------- model

interface RouteEntry {
  method: string;
  part: PathPart;
  location: SourceLocation | undefined;
  handler: ((...a: never[]) => unknown) | undefined;
  /** undefined = not looked up yet, null = looked up, nothing to report. */
  handlerLocation: SourceLocation | null | undefined;
  fulls: FullRoute[];
}

interface RouterNode {
  entries: RouteEntry[];
  children: Array<{ child: RouterNode; part: PathPart }>;
  parents: Array<{ parent: RouterNode; part: PathPart }>;
  root: boolean;
  /** An app's router mounted into another app (not a root of its own). */
  subApp: boolean;
}

interface FullRoute {
  def: RouteDefinition;
  matcher: RegExp | undefined;
  entry: RouteEntry;
}

const enum Kind {
  Route = 0,
  Mount = 1,
}

interface LayerInfo {
  kind: Kind;
  alts: PathPart;
  /** Compiled lazily for array paths only. */
  matchers?: Array<RegExp | undefined>;
}

interface SinkEntry {
  sink: RouteSink;
}

interface ModuleState {
  sinks: Set<SinkEntry>;
  fulls: Map<string, FullRoute>;
  order: FullRoute[];
  nodes: WeakMap<object, RouterNode>;
  routes: WeakMap<object, { node: RouterNode; part: PathPart }>;
  appRouters: WeakMap<object, object>;
  pendingSubApps: WeakMap<object, Array<{ parent: RouterNode; part: PathPart }>>;
  injectors: Array<() => RequestHandler | undefined>;
  lookups: RouteEntry[];
  lookupScheduled: boolean;
  /** >0 while app.all runs: Express 4 implements it as one call per verb; it is recorded once, as ALL. */
  inAppAll: number;
  lastRoute: object | undefined;
  getAppRouter: (app: AppLike) => RouterLike | undefined;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFn = (...args: any[]) => unknown;
interface RouterLike extends AnyFn {
  stack: LayerLike[];
  use: AnyFn;
}
interface LayerLike {
  handle: unknown;
  route?: unknown;
  [LAYER]?: LayerInfo;
}
type Req = object & { url?: string };
interface AppLike extends AnyFn {
  _router?: RouterLike;
  router?: RouterLike;
  lazyrouter?: () => void;
  handle?: unknown;
  set?: unknown;
}

const PATCHED = Symbol.for('routelens.express.patched');
const STATE = Symbol.for('routelens.express.state');
const LAYER = Symbol.for('routelens.express.layer');
/** On a wrapped `app.handle`: the AppEntry it measures with, and the handle it wraps. */
const ENTRY = Symbol.for('routelens.express.entry');
const INNER = Symbol.for('routelens.express.inner');
const MAX_ROUTES = 10_000;
const MAX_ALTS_PER_ENTRY = 256;
const MAX_DEPTH = 16;

/** Failures before any sink is attached go nowhere (the agent never logs unless asked). */
const fallbackDiag = new Diagnostics(silentLogger);
const verbs = [...METHODS.map((m) => m.toLowerCase()), 'all'];

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
  const entry: SinkEntry = { sink: target };
  state.sinks.add(entry);
  return {
    match: (method, path) => match(state, method, path),
    routes: () => state.order.map((f) => ({ ...f.def })),
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
    // eslint-disable-next-line @typescript-eslint/no-require-imports
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
  const express = expressModule as { Router: AnyFn & { prototype?: Record<string, unknown> }; Route: { prototype: Record<string | symbol, unknown> }; application: Record<string | symbol, unknown> };
  // Express 5 (`router` package): methods on Router.prototype; Express 4: on the Router function itself.
  const routerProto = (typeof express.Router.prototype?.route === 'function' ? express.Router.prototype : express.Router) as Record<string | symbol, unknown>;
  const existing = routerProto[STATE] as ModuleState | undefined;
  if (existing) return existing;

  const routeProto = express.Route.prototype;
  const appProto = express.application;
  const origUse = routerProto.use as AnyFn;
  const origRoute = routerProto.route as AnyFn;
  if (typeof origUse !== 'function' || typeof origRoute !== 'function') return undefined;

  // The Layer prototype, from a throwaway router (Layer is not exported).
  const probe = (express.Router as AnyFn)() as RouterLike;
  origUse.call(probe, () => undefined);
  const layerProto = Object.getPrototypeOf(probe.stack[0]) as Record<string | symbol, unknown>;

  const state: ModuleState = {
    sinks: new Set(),
    fulls: new Map(),
    order: [],
    nodes: new WeakMap(),
    routes: new WeakMap(),
    appRouters: new WeakMap(),
    pendingSubApps: new WeakMap(),
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
  };
  const fail = (code: string, err: unknown): void => {
    const d = firstDiag(state) ?? diag;
    d.failure(code, err);
  };
  Object.defineProperty(routerProto, STATE, { value: state, configurable: true });

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
    function use(this: RouterLike, handler: unknown) {
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
        if (name === 'all') return appAll(state, orig, this, arguments, fail);
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

  // ---- Layer: request-time templates and the error path
  const reqName = typeof layerProto.handleRequest === 'function' ? 'handleRequest' : 'handle_request';
  const errName = typeof layerProto.handleError === 'function' ? 'handleError' : 'handle_error';
  once(layerProto, reqName, (orig) =>
    function handleRequest(this: LayerLike, req: Req, res: unknown, next: AnyFn) {
      const info = this[LAYER];
      if (info === undefined) return orig.call(this, req, res, next);
      let n = next;
      try {
        n = enter(info, req, next);
      } catch (err) {
        fail('express.layer', err);
      }
      return orig.call(this, req, res, n);
    },
  );
  once(layerProto, errName, (orig) =>
    function handleError(this: LayerLike, error: unknown, req: Req, res: unknown, next: AnyFn) {
      let n = next;
      try {
        if (req !== null && typeof req === 'object') stateOf(req).threw = true;
        const info = this[LAYER];
        if (info !== undefined && info.kind === Kind.Mount) n = enter(info, req, next);
      } catch (err) {
        fail('express.layer', err);
      }
      return orig.call(this, error, req, res, n);
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

function firstDiag(state: ModuleState): Diagnostics | undefined {
  for (const s of state.sinks) if (s.sink.diag) return s.sink.diag;
  return undefined;
}

// ---------------------------------------------------------------- registration

function nodeOf(state: ModuleState, router: object): RouterNode {
  let node = state.nodes.get(router);
  if (!node) {
    node = { entries: [], children: [], parents: [], root: false, subApp: false };
    state.nodes.set(router, node);
  }
  return node;
}

function isRouter(fn: unknown): fn is RouterLike {
  const f = fn as { stack?: unknown; handle?: unknown; route?: unknown } | undefined;
  return typeof fn === 'function' && f !== undefined && Array.isArray(f.stack) && typeof f.handle === 'function' && typeof f.route === 'function';
}

function isApp(fn: unknown): fn is AppLike {
  const f = fn as AppLike | undefined;
  return typeof f === 'function' && typeof f.handle === 'function' && typeof f.set === 'function';
}

/** app.all(path, …fns): Express 4 calls every verb of the route; record one ALL entry instead. */
function appAll(state: ModuleState, orig: AnyFn, app: AppLike, args: IArguments, fail: (code: string, err: unknown) => void): unknown {
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
    fail('express.verb', err);
  }
  return r;
}

function onRouterRoute(state: ModuleState, router: RouterLike, route: object, path: unknown): void {
  state.lastRoute = route;
  const part = toPart(path, false);
  state.routes.set(route, { node: nodeOf(state, router), part });
  const layer = router.stack[router.stack.length - 1];
  if (layer && layer.route === route) layer[LAYER] = { kind: Kind.Route, alts: part };
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
  const { path } = usePath(args);
  const part = toPart(path, true);
  const isRoot = part.length === 1 && part[0]!.text === '';
  for (let i = before; i < router.stack.length; i++) {
    const layer = router.stack[i]!;
    const fn = layer.handle as { name?: string } | undefined;
    const routerFn = isRouter(fn);
    if (!isRoot && (routerFn || fn?.name === 'mounted_app')) layer[LAYER] = { kind: Kind.Mount, alts: part };
    if (routerFn) link(state, nodeOf(state, router), nodeOf(state, fn), part);
  }
}

function onRouteVerb(state: ModuleState, route: object, method: string, args: ArrayLike<unknown>): void {
  const info = state.routes.get(route);
  if (!info) return;
  const fns = (Array.prototype.slice.call(args) as unknown[]).flat(Infinity);
  const last = fns[fns.length - 1];
  const entry: RouteEntry = {
    method,
    part: info.part,
    location: captureSite(),
    handler: typeof last === 'function' ? (last as RouteEntry['handler']) : undefined,
    handlerLocation: undefined,
    fulls: [],
  };
  info.node.entries.push(entry);
  const prefixes = prefixesOf(info.node, 0);
  if (prefixes.length) emitEntry(state, entry, prefixes);
}

function onAppRegistration(state: ModuleState, app: AppLike): void {
  if (state.appRouters.has(app)) return;
  const router = state.getAppRouter(app);
  if (!router || typeof router !== 'function') return;
  state.appRouters.set(app, router);
  const node = nodeOf(state, router);
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
      if (!node.subApp && !node.root) {
        node.root = true;
        emitSubtree(state, node, [{ text: '', source: '' }], 0);
      }
    } catch (err) {
      (firstDiag(state) ?? fallbackDiag).failure('express.app', err);
    }
  });
  for (const getHandler of state.injectors) {
    const handler = getHandler();
    if (typeof handler === 'function' && !measureAtEntry(app, handler, (code, err) => (firstDiag(state) ?? fallbackDiag).failure(code, err))) router.use(handler);
  }
}

/**
 * When `fn` is the measuring middleware (marked with AT_ENTRY), wraps `app.handle` so the
 * request is measured as the app receives it, and returns true: the caller then adds no layer.
 * A router runs every layer in its stack for every request (path match, params, `req.url`
 * bookkeeping: a handful of uncached property accesses on `req`), so a layer that only watches
 * costs more than the watching. Measuring at the entry also covers what the app does before
 * its first middleware, wherever `app.use(agent.middleware())` stands. Wrapping twice with the
 * same middleware is a no-op. False (use a layer) for anything else or on failure.
 */
function measureAtEntry(app: AppLike, fn: unknown, fail: (code: string, err: unknown) => void): boolean {
  try {
    const enter = typeof fn === 'function' ? (fn as { [AT_ENTRY]?: AppEntry })[AT_ENTRY] : undefined;
    if (typeof enter !== 'function' || !isApp(app)) return false;
    type Handle = ((req: unknown, res: unknown, callback: unknown) => unknown) & { [ENTRY]?: AppEntry; [INNER]?: Handle };
    const inner = app.handle as Handle;
    for (let h: Handle | undefined = inner; h !== undefined; h = h[INNER]) if (h[ENTRY] === enter) return true;
    const handle: Handle = function handle(this: unknown, req: unknown, res: unknown, callback: unknown) {
      return enter(this, inner, req, res, callback);
    };
    Object.defineProperty(handle, ENTRY, { value: enter });
    Object.defineProperty(handle, INNER, { value: inner });
    app.handle = handle;
    return true;
  } catch (err) {
    fail('express.app', err);
    return false;
  }
}

function onAppUse(state: ModuleState, app: AppLike, args: ArrayLike<unknown>): void {
  const { path, fns } = usePath(args);
  const parentRouter = state.appRouters.get(app);
  if (!parentRouter) return;
  const part = toPart(path, true);
  for (const fn of fns) {
    if (!isApp(fn) || isRouter(fn)) continue;
    const subRouter = state.appRouters.get(fn);
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

function link(state: ModuleState, parent: RouterNode, child: RouterNode, part: PathPart): void {
  if (parent === child) return;
  child.parents.push({ parent, part });
  parent.children.push({ child, part });
  const prefixes = prefixesOf(parent, 0);
  if (prefixes.length) emitSubtree(state, child, joinParts(prefixes, part), 0);
}

/** Every full prefix under which a router's routes are served (empty when not reachable yet). */
function prefixesOf(node: RouterNode, depth: number): Alt[] {
  const out: Alt[] = node.root ? [{ text: '', source: '' }] : [];
  if (depth >= MAX_DEPTH) return out;
  for (const { parent, part } of node.parents) {
    const up = prefixesOf(parent, depth + 1);
    if (up.length) out.push(...joinParts(up, part));
  }
  return out;
}

function emitSubtree(state: ModuleState, node: RouterNode, prefixes: Alt[], depth: number): void {
  if (depth >= MAX_DEPTH) return;
  for (const entry of node.entries) emitEntry(state, entry, prefixes);
  for (const { child, part } of node.children) emitSubtree(state, child, joinParts(prefixes, part), depth + 1);
}

function emitEntry(state: ModuleState, entry: RouteEntry, prefixes: Alt[]): void {
  for (const alt of joinParts(prefixes, entry.part)) {
    const route = templateOf(truncate(alt.text, MAX_TEMPLATE));
    // Once per registration and full path (a router mounted twice at one prefix reports once);
    // another app registering the same template reports it again (sinks merge duplicates).
    if (entry.fulls.some((f) => f.def.route === route) || entry.fulls.length >= MAX_ALTS_PER_ENTRY) continue;
    const def: RouteDefinition = { method: entry.method, route };
    if (entry.location) def.location = entry.location;
    if (entry.handlerLocation) def.handlerLocation = entry.handlerLocation;
    const full: FullRoute = { def, matcher: undefined, entry };
    entry.fulls.push(full);
    const key = `${entry.method} ${route}`;
    if (!state.fulls.has(key) && state.fulls.size < MAX_ROUTES) {
      full.matcher = compileMatcher(alt.source);
      state.fulls.set(key, full);
      state.order.push(full);
    }
    for (const s of state.sinks) send(s, def, s.sink.diag);
    if (entry.handlerLocation === undefined && entry.handler) scheduleLookup(state, entry);
  }
}

function send(s: SinkEntry, def: RouteDefinition, diag: Diagnostics | undefined): void {
  try {
    s.sink.registerRoute({ ...def });
  } catch (err) {
    (diag ?? fallbackDiag).failure('express.registerRoute', err);
  }
}

// ---------------------------------------------------------------- handler locations (batched, off the request path)

function scheduleLookup(state: ModuleState, entry: RouteEntry): void {
  entry.handlerLocation = null; // queued: never twice
  state.lookups.push(entry);
  if (state.lookupScheduled) return;
  state.lookupScheduled = true;
  setImmediate(() => {
    state.lookupScheduled = false;
    const batch = state.lookups.splice(0);
    try {
      const locs = functionLocations(batch.map((e) => e.handler!));
      batch.forEach((entry, i) => {
        const loc = locs[i];
        if (!loc || sameLine(loc, entry.location)) return;
        entry.handlerLocation = loc;
        for (const full of entry.fulls) {
          full.def.handlerLocation = loc;
          for (const s of state.sinks) send(s, full.def, s.sink.diag);
        }
      });
    } catch (err) {
      (firstDiag(state) ?? fallbackDiag).failure('express.handlerLocation', err);
    }
  }).unref();
}

// ---------------------------------------------------------------- request time

/** Records the layer's template in the request's state; returns the `next` to hand to the layer. */
function enter(info: LayerInfo, req: Req, next: AnyFn): AnyFn {
  const text = info.alts.length === 1 ? info.alts[0]!.text : pickAlt(info, req.url).text;
  const state = stateOf(req);
  const mount = state.mount;
  if (info.kind === Kind.Route) {
    // The middleware's state is also the request context (context.ts), so this sets its route too.
    state.route = templateOf(mount === undefined ? text : mount + text);
    return function routeNext(this: unknown, err?: unknown) {
      if (err && err !== 'route' && err !== 'router') stateOf(req).threw = true;
      return next.apply(this, arguments as never);
    };
  }
  state.mount = mount === undefined ? text : mount + text;
  return function mountNext(this: unknown) {
    // Looked up again: a middleware further in may have replaced the state (it copies the marks).
    const current = stateFor(req);
    if (current !== undefined) current.mount = mount;
    return next.apply(this, arguments as never);
  };
}

/** For array paths: the alternative matching the router-relative URL (the first when none does). */
function pickAlt(info: LayerInfo, url: string | undefined): Alt {
  const alts = info.alts;
  if (typeof url !== 'string') return alts[0]!;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  info.matchers ??= alts.map((a) => {
    try {
      return new RegExp(info.kind === Kind.Route ? `^${a.source}\\/?$` : `^${a.source}(?:\\/|$)`, 'i');
    } catch {
      return undefined;
    }
  });
  for (let i = 0; i < alts.length; i++) if (info.matchers[i]?.test(path)) return alts[i]!;
  return alts[0]!;
}

function match(state: ModuleState, method: string, path: string): string | undefined {
  try {
    const m = String(method).toUpperCase();
    let p = String(path);
    const q = p.search(/[?#]/);
    if (q >= 0) p = p.slice(0, q);
    if (p.length > 8192) return undefined;
    for (const full of state.order) {
      const fm = full.def.method;
      if (fm !== m && fm !== 'ALL' && !(m === 'HEAD' && fm === 'GET')) continue;
      if (full.matcher?.test(p)) return full.def.route;
    }
  } catch {
    /* unknown */
  }
  return undefined;
}
