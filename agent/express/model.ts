/**
 * Route capture's model of one Express module's routers, shared by registration
 * (instrument.ts), discovery of routers built before capture (discover.ts) and request-time
 * attribution (attribute.ts). No patching here.
 *
 *   RouterNode   one Express router (an app's or `express.Router()`): its routes, its children
 *                mounted with a prefix, its parents; a root is an app's own router
 *   RouteEntry   one (method, route path) registered on a router, with its locations
 *   FullRoute    one entry under one full prefix: the RouteDefinition sent to sinks
 */
import { METHODS } from 'node:http';
import type { SourceLocation } from '../../protocol';
import { type RouteDefinition, sameLocation } from '../internal';
import type { Diagnostics } from '../log';
import { truncate } from '../text';
import { type Alt, MAX_TEMPLATE, type PathPart, compileMatcher, exact, joinParts, templateOf } from './paths';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFn = (...args: any[]) => unknown;

/** Where route definitions go (see instrument.ts's RouteSink). */
export interface Sink {
  registerRoute(def: RouteDefinition): void;
  diag?: Diagnostics;
}

export interface RouteEntry {
  method: string;
  part: PathPart;
  location: SourceLocation | undefined;
  handler: AnyFn | undefined;
  /** undefined = not looked up yet, null = looked up, nothing to report. */
  handlerLocation: SourceLocation | null | undefined;
  /**
   * Its full routes (one per full path it is served under): the one itself, as most entries have,
   * else an array of just their length; `[]` before the first. Read it with fullsOf.
   */
  fulls: FullRoute | readonly FullRoute[];
  /** The router holding it. */
  node: RouterNode;
  /** Found by walking a router built before capture: the registration site comes from the handler (discover.ts). */
  discovered: boolean;
  /**
   * Not sent to sinks until its locations are looked up (a discovered route): a sink keeps the
   * first location it is given, and a discovered route has none before the lookup.
   */
  deferred: boolean;
  /** `express.static` mounted here (`GET /public/*`): attributed by attribute.ts, never matched by path. */
  isStatic: boolean;
  /** The route path when it is one string (to find a discovered route's registration line). */
  literal: string | undefined;
  /**
   * Registered by NestJS (nest.ts), or its handler turned out to be Nest's proxy: located at the
   * controller method its handler calls. Deferred until then.
   */
  nest: boolean;
}

export interface RouterNode {
  entries: RouteEntry[];
  children: Array<{ child: RouterNode; part: PathPart }>;
  parents: Array<{ parent: RouterNode; part: PathPart }>;
  root: boolean;
  /** An app's router mounted into another app (not a root of its own). */
  subApp: boolean;
  /** Files where this router's discovered routes were found registered (to place the others). */
  homeFiles: Set<string>;
}

/** One entry under one full prefix: the definition sent to sinks (copied, copyDef), and what matches it by path. */
export interface FullRoute extends RouteDefinition {
  location: SourceLocation | undefined;
  handlerLocation: SourceLocation | undefined;
  /** Regex source of the full path; undefined for a route never matched by path (a static mount, or a template registered before). */
  source: string | undefined;
  /** Compiled from `source` at first use (matcherOf): undefined until then, null when it does not compile. */
  matcher: RegExp | null | undefined;
  entry: RouteEntry;
}

/** An entry's full routes as a list. */
export function fullsOf(entry: RouteEntry): readonly FullRoute[] {
  return isList(entry.fulls) ? entry.fulls : [entry.fulls];
}

function isList(fulls: FullRoute | readonly FullRoute[]): fulls is readonly FullRoute[] {
  return Array.isArray(fulls);
}

/** A route's matcher, compiled at first use: most routes are never matched by path (that is only for requests the router did not answer). */
export function matcherOf(full: FullRoute): RegExp | undefined {
  if (full.matcher === undefined) full.matcher = full.source === undefined ? null : (compileMatcher(full.source) ?? null);
  return full.matcher ?? undefined;
}

/**
 * What request time needs of an Express Route object (state.routes), with its full templates per
 * (prefix, alternative), rebuilt when the routers' links change (the state's version moves).
 */
export interface RouteInfo {
  node: RouterNode;
  part: PathPart;
  /** The Route's own `methods` object (`{ get: true }`, `_all`): live, so verbs added later count. */
  methods: Record<string, unknown>;
  /** The state's version the templates below were built at; -1 before the first request. */
  version: number;
  /** The route's one full template and its mount when it is reachable by exactly one (the common case: no arrays kept). */
  route: string | undefined;
  mount: string | undefined;
  /** Otherwise: every prefix and template, told apart at request time. */
  many: ManyTemplates | undefined;
}

/** A route's info, its templates not built yet (every field in the literal: one object per route, its fields in-object). */
export function routeInfo(node: RouterNode, part: PathPart, methods: Record<string, unknown>): RouteInfo {
  return { node, part, methods, version: -1, route: undefined, mount: undefined, many: undefined };
}

export interface ManyTemplates {
  prefixes: Alt[];
  /** prefixes.length × part.length templates, prefix-major. */
  routes: string[];
  prefixMatchers: Array<RegExp | undefined> | undefined;
  altMatchers: Array<RegExp | undefined> | undefined;
}

/** A middleware or router mounted at a path (not the root): requests answered inside it are attributed to it. */
export interface Mount {
  node: RouterNode;
  part: PathPart;
  isStatic: boolean;
}

export interface ModuleState {
  sinks: Set<{ sink: Sink }>;
  /**
   * The full templates in `order`, by method: the route strings themselves, shared with the
   * definitions (a key of method and template would be a string more per route).
   */
  fulls: Map<string, Set<string>>;
  order: FullRoute[];
  nodes: WeakMap<object, RouterNode>;
  routes: WeakMap<object, RouteInfo>;
  /** Layers already seen by registration or discovery (discovery skips them). */
  known: WeakSet<object>;
  appRouters: WeakMap<object, object>;
  pendingSubApps: WeakMap<object, Array<{ parent: RouterNode; part: PathPart }>>;
  /** Routers the measuring middleware was added to as a layer, whose app is learnt from its first request. */
  pendingRoots: Set<object>;
  mounts: Mount[];
  /** Bumped whenever a link or a root changes full prefixes (request-time caches check it). */
  version: number;
  injectors: Array<() => unknown>;
  lookups: RouteEntry[];
  lookupScheduled: boolean;
  /** >0 while app.all runs: Express 4 implements it as one call per verb; it is recorded once, as ALL. */
  inAppAll: number;
  lastRoute: object | undefined;
  getAppRouter: (app: AppLike) => RouterLike | undefined;
  /** Queues an entry's handler for the batched location lookup (instrument.ts). */
  onLookup: (entry: RouteEntry) => void;
  fail: (code: string, err: unknown) => void;
}

export interface RouterLike extends AnyFn {
  stack: LayerLike[];
  use: AnyFn;
}
export interface LayerLike {
  handle: unknown;
  route?: unknown;
  method?: unknown;
  /** Express 5 (router ≥ 2.2): the path as given to use()/route(). */
  rawPath?: unknown;
  /** Express 5: a use() at '/'. */
  slash?: unknown;
  /** Express 4: the compiled path, with `fast_slash` for a use() at '/'. */
  regexp?: RegExp & { fast_slash?: boolean };
  keys?: Array<{ name?: unknown }>;
}
export interface RouteLike {
  path?: unknown;
  stack?: LayerLike[];
  methods?: Record<string, unknown>;
}
export interface AppLike extends AnyFn {
  _router?: RouterLike;
  router?: RouterLike;
  lazyrouter?: () => void;
  handle?: unknown;
  set?: unknown;
  parent?: unknown;
  use?: unknown;
}

export const MAX_ROUTES = 10_000;
export const MAX_ALTS_PER_ENTRY = 256;
export const MAX_DEPTH = 16;
export const MAX_MOUNTS = 1_000;
export const ROOT: PathPart = [{ text: '', source: '' }];
/** Lower-case verbs of Route objects (`all` last). */
export const verbs = [...METHODS.map((m) => m.toLowerCase()), 'all'];
/** Upper → lower case for known methods, so request time never lower-cases a string. */
export const LOWER = new Map(METHODS.map((m) => [m, m.toLowerCase()]));

export function nodeOf(state: ModuleState, router: object): RouterNode {
  let node = state.nodes.get(router);
  if (!node) {
    node = { entries: [], children: [], parents: [], root: false, subApp: false, homeFiles: new Set() };
    state.nodes.set(router, node);
  }
  return node;
}

export function isRouter(fn: unknown): fn is RouterLike {
  const f = fn as { stack?: unknown; handle?: unknown; route?: unknown } | undefined;
  return typeof fn === 'function' && f !== undefined && Array.isArray(f.stack) && typeof f.handle === 'function' && typeof f.route === 'function';
}

export function isApp(fn: unknown): fn is AppLike {
  const f = fn as AppLike | undefined;
  return typeof f === 'function' && typeof f.handle === 'function' && typeof f.set === 'function';
}

/** `express.static(…)`'s middleware (serve-static names it so). */
export function isStatic(fn: unknown): boolean {
  return typeof fn === 'function' && fn.name === 'serveStatic';
}

/** The part a static mount's endpoint is reported under: the mount and `/*`. */
export function staticPart(mount: PathPart): PathPart {
  return joinParts(mount, [{ text: '/*', source: '\\/.*' }]);
}

export function firstDiag(state: ModuleState): Diagnostics | undefined {
  for (const s of state.sinks) if (s.sink.diag) return s.sink.diag;
  return undefined;
}

// ---------------------------------------------------------------- links and emission

export function link(state: ModuleState, parent: RouterNode, child: RouterNode, part: PathPart): void {
  if (parent === child) return;
  child.parents.push({ parent, part });
  parent.children.push({ child, part });
  state.version++;
  const prefixes = prefixesOf(parent, 0);
  if (prefixes.length) emitSubtree(state, child, joinParts(prefixes, part), 0);
}

/** Makes an app's router a root and reports everything under it. */
export function markRoot(state: ModuleState, node: RouterNode): void {
  if (node.root || node.subApp) return;
  node.root = true;
  state.version++;
  emitSubtree(state, node, [...ROOT], 0);
}

/** Every full prefix under which a router's routes are served (empty when not reachable yet). */
export function prefixesOf(node: RouterNode, depth: number): Alt[] {
  const out: Alt[] = node.root ? [...ROOT] : [];
  if (depth >= MAX_DEPTH) return out;
  for (const { parent, part } of node.parents) {
    const up = prefixesOf(parent, depth + 1);
    if (up.length) out.push(...joinParts(up, part));
  }
  return exact(out);
}

export function emitSubtree(state: ModuleState, node: RouterNode, prefixes: Alt[], depth: number): void {
  if (depth >= MAX_DEPTH) return;
  for (const entry of node.entries) emitEntry(state, entry, prefixes);
  for (const { child, part } of node.children) emitSubtree(state, child, joinParts(prefixes, part), depth + 1);
}

/** Distinct locations remembered by sharedLocation. */
const RECENT_LOCATIONS = 4;
const recentLocations: SourceLocation[] = [];

/**
 * `loc`, or an equal location a route was given shortly before: routes registered from one call
 * site (in a loop, from a route table or a route factory) and their handlers written once share
 * one object, where each held its own (about 50 bytes per location). A few compared, nothing per
 * route remembered: routes registered each from its own line pay a few comparisons.
 */
export function sharedLocation<L extends SourceLocation | null | undefined>(loc: L): L {
  if (!loc) return loc;
  for (const known of recentLocations) if (sameLocation(known, loc)) return known as L;
  if (recentLocations.unshift(loc) > RECENT_LOCATIONS) recentLocations.pop();
  return loc;
}

/** Reports an entry under each prefix (once per full path); schedules its handler's lookup. */
export function emitEntry(state: ModuleState, entry: RouteEntry, prefixes: Alt[]): void {
  entry.location = sharedLocation(entry.location);
  for (const alt of joinParts(prefixes, entry.part)) {
    const route = templateOf(truncate(alt.text, MAX_TEMPLATE));
    // Once per registration and full path (a router mounted twice at one prefix reports once);
    // another app registering the same template reports it again (sinks merge duplicates).
    const fulls = fullsOf(entry);
    if (fulls.some((f) => f.route === route) || fulls.length >= MAX_ALTS_PER_ENTRY) continue;
    // The definition and its matcher in one object (a definition object of its own: 56 bytes more per
    // route), every field in the literal, so none is added later (lookup.ts fills the locations): an
    // object given a property its literal lacked keeps it in a separate array, 40 bytes more per route.
    const full: FullRoute = { method: entry.method, route, location: entry.location, handlerLocation: entry.handlerLocation ?? undefined, source: undefined, matcher: undefined, entry };
    // Most entries keep one: the route itself, not an array of one (56 bytes more per route).
    entry.fulls = fulls.length === 0 ? full : fulls.concat(full);
    let known = state.fulls.get(entry.method);
    if (known === undefined) state.fulls.set(entry.method, (known = new Set()));
    if (!known.has(route) && state.order.length < MAX_ROUTES) {
      if (!entry.isStatic) full.source = alt.source;
      known.add(route);
      state.order.push(full);
    }
    if (!entry.deferred) for (const s of state.sinks) send(s.sink, full);
    if (entry.handlerLocation === undefined && entry.handler) state.onLookup(entry);
  }
}

/** A copy of a definition to hand out (its holder may keep it), without the locations not known yet. */
export function copyDef(def: RouteDefinition): RouteDefinition {
  const copy: RouteDefinition = { method: def.method, route: def.route };
  if (def.location) copy.location = def.location;
  if (def.handlerLocation) copy.handlerLocation = def.handlerLocation;
  return copy;
}

/** Sends a definition to one sink. */
export function send(sink: Sink, def: RouteDefinition): void {
  try {
    sink.registerRoute(copyDef(def));
  } catch (err) {
    sink.diag?.failure('express.registerRoute', err);
  }
}
