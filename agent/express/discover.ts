/**
 * Discovery of what was registered before route capture existed: the app built its routers
 * (an express-generator app's `routes/*.js`, every router of an ES-module app, whose imports run
 * first) before `createAgent()` patched Express, so registration was never seen. Their layers
 * are still in each router's `stack`; this walks them:
 *
 *   route layers   `layer.route`: its `path` as given, its `stack` of (method, handler) layers
 *   mounts         Express 5 keeps the path as given (`layer.rawPath`); Express 4 only its
 *                  compiled `layer.regexp` and `keys`, turned back into `/orgs/:org`
 *   routers        walked in turn; sub-apps (`mounted_app`) are opaque and stay unknown
 *
 * A discovered route has no registration stack to read, so its location comes from its handler
 * (instrument.ts's lookup: V8's `[[FunctionLocation]]`, then the registration call on that line
 * or found by its path in the router's files, see location.ts's registrationSite). Walking
 * marks every layer as known, so nothing is reported twice and registrations that come after
 * are captured as usual. Never on the request path, except once for an app whose first request
 * is how it is found (attribute.ts).
 */
import { METHODS } from 'node:http';
import { type PathPart, toPart } from './paths';
import {
  type LayerLike,
  MAX_DEPTH,
  MAX_MOUNTS,
  type ModuleState,
  ROOT,
  type RouteEntry,
  type RouteLike,
  type RouterLike,
  type RouterNode,
  emitEntry,
  isRouter,
  isStatic,
  link,
  nodeOf,
  prefixesOf,
  routeInfo,
  staticPart,
} from './model';

const VERB_COUNT = METHODS.length;
/** How Express 4 compiles the end of a use() path (path-to-regexp 0.1, `end: false`). */
const MOUNT_END = '\\/?(?=\\/|$)';

/** Walks a router's layers not seen yet (and the routers mounted in it); returns its node. */
export function discoverRouter(state: ModuleState, router: RouterLike, depth = 0): RouterNode {
  const node = nodeOf(state, router);
  if (depth >= MAX_DEPTH || !Array.isArray(router.stack)) return node;
  for (const layer of router.stack) {
    if (layer === null || typeof layer !== 'object' || state.known.has(layer)) continue;
    state.known.add(layer);
    if (layer.route !== undefined && layer.route !== null && typeof layer.route === 'object') discoverRoute(state, node, layer.route as RouteLike);
    else discoverUse(state, node, layer, depth);
  }
  return node;
}

function discoverRoute(state: ModuleState, node: RouterNode, route: RouteLike): void {
  if (state.routes.has(route)) return;
  const part = toPart(route.path, false);
  const methods = route.methods && typeof route.methods === 'object' ? route.methods : {};
  state.routes.set(route, routeInfo(node, part, methods));
  const literal = typeof route.path === 'string' ? route.path : undefined;
  const prefixes = prefixesOf(node, 0);
  for (const [method, handler] of handlersByMethod(route.stack)) {
    const entry: RouteEntry = { method, part, location: undefined, handler, handlerLocation: undefined, fulls: [], node, discovered: true, deferred: handler !== undefined, isStatic: false, literal, nest: false };
    node.entries.push(entry);
    if (prefixes.length) emitEntry(state, entry, prefixes);
  }
}

/**
 * (METHOD, last handler) per method of a route's stack, in order of appearance. A route holding
 * every verb is `app.all` as Express 4 and 5 register it (one layer per verb): one ALL.
 */
export function handlersByMethod(stack: LayerLike[] | undefined): Array<[string, RouteEntry['handler']]> {
  // Map.set keeps a key's first position: methods in order of appearance, each with its last handler.
  const byMethod = new Map<string, RouteEntry['handler']>();
  for (const layer of Array.isArray(stack) ? stack : []) {
    if (layer === null || typeof layer !== 'object' || typeof layer.handle !== 'function') continue;
    const method = typeof layer.method === 'string' ? layer.method.toUpperCase() : 'ALL';
    byMethod.set(method, layer.handle as RouteEntry['handler']);
  }
  const verbs = [...byMethod.keys()].filter((m) => m !== 'ALL');
  if (verbs.length >= VERB_COUNT && METHODS.every((m) => byMethod.has(m))) return [['ALL', byMethod.get('GET')]];
  return [...byMethod];
}

function discoverUse(state: ModuleState, node: RouterNode, layer: LayerLike, depth: number): void {
  const part = mountPartOf(layer);
  if (part === undefined) return;
  const fn = layer.handle;
  const root = isRootPart(part);
  if (isRouter(fn)) {
    const child = discoverRouter(state, fn, depth + 1);
    link(state, node, child, part);
  } else if (isStatic(fn)) {
    addStatic(state, node, part, undefined);
  }
  if (!root) addMount(state, node, part, isStatic(fn));
}

/** Records a static mount as an endpoint of its own: `GET <mount>/*`, located at the `express.static` line when known. */
export function addStatic(state: ModuleState, node: RouterNode, mount: PathPart, location: RouteEntry['location']): void {
  const entry: RouteEntry = { method: 'GET', part: staticPart(mount), location, handler: undefined, handlerLocation: null, fulls: [], node, discovered: false, deferred: false, isStatic: true, literal: undefined, nest: false };
  node.entries.push(entry);
  const prefixes = prefixesOf(node, 0);
  if (prefixes.length) emitEntry(state, entry, prefixes);
}

export function addMount(state: ModuleState, node: RouterNode, part: PathPart, isStaticMount: boolean): void {
  if (state.mounts.length >= MAX_MOUNTS) return;
  state.mounts.push({ node, part, isStatic: isStaticMount });
  state.version++;
}

export function isRootPart(part: PathPart): boolean {
  return part.length === 1 && part[0]!.text === '';
}

/** A use() layer's path: Express 5's `rawPath`, or Express 4's regexp turned back into a path. Undefined when unreadable. */
export function mountPartOf(layer: LayerLike): PathPart | undefined {
  if (layer.rawPath !== undefined) return toPart(layer.rawPath, true);
  if (layer.slash === true) return ROOT;
  const re = layer.regexp;
  if (!(re instanceof RegExp)) return undefined;
  if (re.fast_slash === true) return ROOT;
  const names = (Array.isArray(layer.keys) ? layer.keys : []).map((k) => String(k?.name));
  const alts: unknown[] = [];
  let k = 0;
  for (const alt of re.source.split('|^')) {
    const source = alt.startsWith('^') ? alt.slice(1) : alt;
    if (!source.endsWith(MOUNT_END)) {
      alts.push(new RegExp(source)); // a RegExp path: reported as the regex literal, as at registration
      continue;
    }
    const path = pathFromSource(source.slice(0, -MOUNT_END.length), () => names[k++] ?? String(k - 1));
    alts.push(path ?? new RegExp(source));
  }
  return toPart(alts.length === 1 ? alts[0] : alts, true);
}

/**
 * Express 4's compiled string path back to the path (`\/orgs(?:\/([^/]+?))` → `/orgs/:org`):
 * parameters, optional parameters, custom groups and `*`. Undefined for anything else.
 */
export function pathFromSource(source: string, nextKey: () => string): string | undefined {
  const params = /\(\?:\\\/\(((?:[^()]|\([^()]*\))*)\)\)(\?)?|\(\.\*\)/g;
  let out = '';
  let last = 0;
  for (let m = params.exec(source); m !== null; m = params.exec(source)) {
    const plain = unescape(source.slice(last, m.index));
    if (plain === undefined) return undefined;
    const name = nextKey();
    if (m[0] === '(.*)') out += plain + '*';
    else out += `${plain}/:${name}${m[1] === '[^/]+?' || m[1] === '[^\\/]+?' ? '' : `(${m[1]})`}${m[2] ?? ''}`;
    last = m.index + m[0].length;
  }
  const rest = unescape(source.slice(last));
  return rest === undefined ? undefined : out + rest;
}

/** Regex source of literal text back to the text; undefined when it is not plain text. */
function unescape(source: string): string | undefined {
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\' && i + 1 < source.length) out += source[++i];
    else if ('()[]{}|^$+?*'.includes(c)) return undefined;
    else out += c;
  }
  return out;
}
