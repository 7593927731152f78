/**
 * The endpoints by method and route: the lookups `record()` makes (two Map
 * reads), creation under the `maxEndpoints` cap (past it, samples fold into
 * one overflow endpoint), registrations with their source locations, and
 * removal by a reset.
 */
import http from 'node:http';
import type { EndpointKind, SourceLocation } from '../../protocol';
import { type RouteDefinition, sameLocation } from '../internal';
import type { Diagnostics } from '../log';
import type { Endpoint } from './endpoint';
import { truncate } from './text';

export const OVERFLOW_ID = '_OTHER (overflow)';
export const UNMATCHED_ROUTE = '(unmatched)';
export const OVERFLOW_ROUTE = '(overflow)';
export const OTHER_METHOD = '_OTHER';
/** Custom timing names are cut to this many characters. */
export const MAX_CUSTOM_NAME = 200;
/** Route templates longer than this are cut (a template is app code, but a buggy app may build them from input). */
export const MAX_ROUTE = 1024;

const KNOWN_METHODS: ReadonlySet<string> = new Set(http.METHODS);

/** What the registry keeps of an endpoint: the figures' Endpoint in metrics, a light reference where samples are only routed. */
export interface RegistryEntry {
  readonly id: string;
  readonly method: string;
  readonly route: string;
  readonly kind: EndpointKind;
  registered: boolean;
  location: SourceLocation | undefined;
  handlerLocation: SourceLocation | undefined;
  removed: boolean;
}

/** How the registry makes its entries, and whom it tells of their changes. */
export interface RegistryHooks<E extends RegistryEntry> {
  create(id: string, method: string, route: string, kind: EndpointKind, since: number): E;
  touch(entry: E): void;
  remove(id: string): void;
}

interface MethodTable<E> {
  routes: Map<string, E>;
  unmatched: E | undefined;
}

export class EndpointRegistry<E extends RegistryEntry = Endpoint> {
  /** When figures start from (construction or the last full reset): new endpoints' rate span starts here. */
  startedAt: number;
  private readonly tables = new Map<string, MethodTable<E>>();
  /**
   * The endpoints by id, in the order they were made (the figures list them so). Without it (the
   * app's thread, where nothing lists them in order) an id is read as its method and route: a Map
   * entry fewer per endpoint, and no id string kept.
   */
  private readonly byId: Map<string, E> | undefined;
  /** Endpoints counted against the cap (the overflow bucket is not). */
  private count = 0;
  private overflowBucket: E | undefined;
  private capWarned = false;

  constructor(
    private readonly maxEndpoints: number,
    private readonly hooks: RegistryHooks<E>,
    private readonly diag: Diagnostics,
    startedAt: number,
    indexIds = true,
  ) {
    this.startedAt = startedAt;
    this.byId = indexIds ? new Map() : undefined;
  }

  get(id: string): E | undefined {
    if (this.byId) return this.byId.get(id);
    if (id === OVERFLOW_ID && this.overflowBucket) return this.overflowBucket;
    // An id is `${method} ${route}` (endpointId), and no method holds a space.
    const space = id.indexOf(' ');
    const t = space < 0 ? undefined : this.tables.get(id.slice(0, space));
    if (t === undefined) return undefined;
    const route = id.slice(space + 1);
    return t.routes.get(route) ?? (route === UNMATCHED_ROUTE ? t.unmatched : undefined);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  /** Every endpoint: in the order they were made when ids are indexed, else method by method. */
  values(): IterableIterator<E> {
    return this.byId ? this.byId.values() : this.eachEntry();
  }

  get size(): number {
    return this.count + (this.overflowBucket ? 1 : 0);
  }

  private *eachEntry(): IterableIterator<E> {
    for (const t of this.tables.values()) {
      if (t.unmatched) yield t.unmatched;
      yield* t.routes.values();
    }
    if (this.overflowBucket) yield this.overflowBucket;
  }

  isOverflow(ep: E): boolean {
    return ep === this.overflowBucket;
  }

  /** The endpoint of a request (on the request path): two Map reads for a known route, kept small so it inlines. */
  forRequest(rawMethod: unknown, route: unknown): E {
    const method = typeof rawMethod === 'string' && KNOWN_METHODS.has(rawMethod) ? rawMethod : OTHER_METHOD;
    if (typeof route === 'string' && route.length <= MAX_ROUTE) {
      const ep = this.tables.get(method)?.routes.get(route);
      if (ep !== undefined) return ep;
    }
    return this.resolve(method, route);
  }

  /** The rest of `forRequest`: unmatched requests, `ALL` routes, long templates, first sight. */
  private resolve(method: string, route: unknown): E {
    const t = this.table(method);
    if (typeof route !== 'string') return t.unmatched ?? this.create(method, UNMATCHED_ROUTE, 'unmatched');
    const key = routeKey(route);
    const ep = t.routes.get(key) ?? this.tables.get('ALL')?.routes.get(key);
    if (ep) return ep;
    const created = this.create(method, key, 'route');
    if (method === 'HEAD' && created !== this.overflowBucket) {
      // Express answers HEAD with the GET route: point the HEAD endpoint at the same code.
      const get = this.tables.get('GET')?.routes.get(key);
      if (get?.registered) {
        created.location = get.location;
        created.handlerLocation = get.handlerLocation;
      }
    }
    return created;
  }

  /** The endpoint of a custom timing. */
  forCustom(name: string): E {
    const key = name.length <= MAX_CUSTOM_NAME ? name : truncate(name, MAX_CUSTOM_NAME);
    return this.table('CUSTOM').routes.get(key) ?? this.create('CUSTOM', key, 'custom');
  }

  /** A route known from its registration. The first registration's location wins; past the cap it is refused. */
  register(def: RouteDefinition): void {
    const method = def.method === 'ALL' ? 'ALL' : KNOWN_METHODS.has(def.method) ? def.method : OTHER_METHOD;
    const route = routeKey(String(def.route));
    let ep = this.table(method).routes.get(route);
    if (!ep) {
      if (this.count >= this.maxEndpoints) {
        this.capWarning();
        return;
      }
      ep = this.create(method, route, 'route');
    }
    if (!ep.registered) {
      // An endpoint seen before its registration gets the location now.
      ep.registered = true;
      ep.location = def.location;
      ep.handlerLocation = def.handlerLocation;
      this.hooks.touch(ep);
    } else if (def.handlerLocation && !ep.handlerLocation && sameLocation(ep.location, def.location)) {
      // The handler's own site is found later (off the request path) and reported again for the same registration.
      ep.handlerLocation = def.handlerLocation;
      this.hooks.touch(ep);
    }
  }

  remove(ep: E): void {
    ep.removed = true;
    this.byId?.delete(ep.id);
    if (ep === this.overflowBucket) {
      this.overflowBucket = undefined;
    } else {
      const t = this.tables.get(ep.method);
      if (t) {
        if (t.unmatched === ep) t.unmatched = undefined;
        else if (t.routes.get(ep.route) === ep) t.routes.delete(ep.route);
      }
      this.count--;
    }
    this.hooks.remove(ep.id);
  }

  private table(method: string): MethodTable<E> {
    let t = this.tables.get(method);
    if (!t) this.tables.set(method, (t = { routes: new Map(), unmatched: undefined }));
    return t;
  }

  /** A new endpoint, or the overflow bucket when the cap is reached. */
  private create(method: string, route: string, kind: EndpointKind): E {
    if (this.count >= this.maxEndpoints) {
      this.capWarning();
      return this.overflow();
    }
    const ep = this.hooks.create(endpointId(method, route), method, route, kind, this.startedAt);
    const t = this.table(method);
    if (kind === 'unmatched') t.unmatched = ep;
    else t.routes.set(route, ep);
    this.byId?.set(ep.id, ep);
    this.count++;
    this.hooks.touch(ep);
    return ep;
  }

  /** The overflow bucket (made when first needed). */
  overflow(): E {
    if (!this.overflowBucket) {
      this.overflowBucket = this.hooks.create(OVERFLOW_ID, OTHER_METHOD, OVERFLOW_ROUTE, 'overflow', this.startedAt);
      this.byId?.set(OVERFLOW_ID, this.overflowBucket);
    }
    return this.overflowBucket;
  }

  private capWarning(): void {
    if (this.capWarned) return; // folded samples are on the request path: not even a message string
    this.capWarned = true;
    this.diag.warnOnce('ROUTELENS_WARN_ENDPOINT_CAP', `more than ${this.maxEndpoints} endpoints: new ones are folded into "${OVERFLOW_ID}" (maxEndpoints)`);
  }
}

/** An endpoint's id: its method and route (the overflow bucket's, OVERFLOW_ID, is one too). */
export function endpointId(method: string, route: string): string {
  return `${method} ${route}`;
}

function routeKey(route: string): string {
  return route.length <= MAX_ROUTE ? route : truncate(route, MAX_ROUTE);
}
