/**
 * Concrete request paths seen in real traffic, per route: what `routelens
 * baseline`, `compare` and `smoke` drive a route with parameters with
 * (`GET /users/:id` → `/users/42`). Only GET and HEAD routes with parameters,
 * only answers 2xx or 3xx, the path without its query (query values may be
 * secrets), at most MAX_RECORDED_PATH characters of plain ASCII. Bounded
 * whatever the URLs: PATHS_PER_ROUTE distinct paths per route (the oldest
 * replaced), MAX_PATH_ROUTES routes.
 *
 * `add()` runs on the request path, but only for the answers the metrics
 * sample (see `Endpoint.pathEvery`); a path already held costs a comparison
 * and nothing allocated. The set is kept in the store as `paths.json`
 * (`encodePaths` / `decodePaths`, docs/history.md).
 */
import { detach } from '../text';

/** Distinct paths kept per route, newest seen first. */
export const PATHS_PER_ROUTE = 8;
/** Routes with paths kept at most (those seen longest ago are dropped first when merging). */
export const MAX_PATH_ROUTES = 256;
/** Longest path kept (characters); a longer one is not kept at all (a cut path is not a real one). */
export const MAX_RECORDED_PATH = 256;
/** Longest route id read back from the file. */
const MAX_ID = 1024;
/** A path seen again moves its time forward; the set counts as changed (to be written) only after this long. */
const SEEN_AGAIN_MS = 3_600_000;

/** A template with parameters (`:id`, `*splat`, a pattern): its own text is not a path to send. */
export const routeHasParams = (route: string): boolean => /[:*(]/.test(route);

/** A GET or HEAD route with parameters: its concrete paths are worth recording. */
export const replayable = (method: string, route: string): boolean => (method === 'GET' || method === 'HEAD') && routeHasParams(route);

/** Where `url`'s path ends (its query or fragment starts); -1 when it is not a path worth keeping. */
function pathEnd(url: string): number {
  if (typeof url !== 'string' || url.charCodeAt(0) !== 47 /* / */) return -1;
  const limit = Math.min(url.length, MAX_RECORDED_PATH + 1);
  for (let i = 1; i < limit; i++) {
    const c = url.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) return i;
    if (c <= 32 || c >= 127) return -1; // controls, spaces, raw non-ASCII bytes
  }
  return url.length > MAX_RECORDED_PATH ? -1 : url.length;
}

/** `url`'s path when it is one worth keeping. */
export function cleanPath(url: string): string | undefined {
  const end = pathEnd(url);
  return end < 0 ? undefined : url.slice(0, end);
}

/** One route's paths: parallel slots, the newest-seen first when read. */
class RoutePaths {
  readonly paths: string[] = [];
  readonly seen = new Float64Array(PATHS_PER_ROUTE);
  newest = 0;

  /** The slot of the path `url` starts with (up to `end`), or -1. Allocates nothing. */
  find(url: string, end: number): number {
    for (let i = 0; i < this.paths.length; i++) {
      const p = this.paths[i]!;
      if (p.length === end && url.startsWith(p)) return i;
    }
    return -1;
  }

  /** Puts a new path in a free slot, or in the oldest one's. */
  put(path: string, t: number): void {
    let slot = this.paths.length;
    if (slot >= PATHS_PER_ROUTE) {
      slot = 0;
      for (let i = 1; i < PATHS_PER_ROUTE; i++) if (this.seen[i]! < this.seen[slot]!) slot = i;
    }
    this.paths[slot] = path;
    this.seen[slot] = t;
    if (t > this.newest) this.newest = t;
  }

  list(): Array<[string, number]> {
    return this.paths.map((p, i): [string, number] => [p, this.seen[i]!]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  }
}

export class RecordedPaths {
  private readonly routes = new Map<string, RoutePaths>();
  /** Something changed since `changed` was last cleared (by the writer). */
  changed = false;

  /**
   * One sampled answer's URL (the path is taken up to its query). Returns true when its path was
   * new and the route has room for more: the caller samples its next answer too. Never throws.
   */
  add(id: string, url: string, t: number): boolean {
    const end = pathEnd(url);
    if (end < 0) return false;
    t = t > 0 ? Math.floor(t) : 0; // a request's start is fractional; the file keeps whole ms
    let r = this.routes.get(id);
    if (r === undefined) {
      if (this.routes.size >= MAX_PATH_ROUTES) return false;
      this.routes.set(id, (r = new RoutePaths()));
    }
    const known = r.find(url, end);
    if (known >= 0) {
      if (t - r.seen[known]! >= SEEN_AGAIN_MS) this.changed = true;
      if (t > r.seen[known]!) r.seen[known] = t;
      if (t > r.newest) r.newest = t;
      return false;
    }
    // A flat copy: a slice would keep the whole request URL alive.
    r.put(detach(url.slice(0, end)), t);
    this.changed = true;
    return r.paths.length < PATHS_PER_ROUTE;
  }

  /** One route's paths, newest seen first. */
  get(id: string): string[] {
    return this.routes.get(id)?.list().map(([p]) => p) ?? [];
  }

  /** Adds what another process recorded (the file): per path the later time; then the bounds. */
  merge(other: Map<string, Array<[string, number]>>): void {
    for (const [id, list] of other) {
      let r = this.routes.get(id);
      if (r === undefined) this.routes.set(id, (r = new RoutePaths()));
      for (const [path, t] of list) {
        const i = r.find(path, path.length);
        if (i >= 0) {
          if (t > r.seen[i]!) r.seen[i] = t;
          if (t > r.newest) r.newest = t;
        } else if (r.paths.length < PATHS_PER_ROUTE || t > Math.min(...r.seen)) r.put(path, t);
      }
    }
    if (this.routes.size > MAX_PATH_ROUTES) {
      const byAge = [...this.routes].sort((a, b) => b[1].newest - a[1].newest);
      for (const [id] of byAge.slice(MAX_PATH_ROUTES)) this.routes.delete(id);
    }
  }

  /** Every route's paths with the times they were seen last, newest first. */
  entries(): Map<string, Array<[string, number]>> {
    const out = new Map<string, Array<[string, number]>>();
    for (const [id, r] of this.routes) out.set(id, r.list());
    return out;
  }
}

/** The file's text: `{"v":1,"routes":{"GET /users/:id":[["/users/42",<epoch ms>],…]}}`. */
export function encodePaths(paths: RecordedPaths): string {
  const routes: Record<string, Array<[string, number]>> = {};
  for (const [id, list] of paths.entries()) if (list.length) routes[id] = list;
  return `${JSON.stringify({ v: 1, routes })}\n`;
}

/** The file back into paths; whatever does not hold what `encodePaths` writes is dropped (a route, an entry, or the whole file). */
export function decodePaths(text: string): Map<string, Array<[string, number]>> {
  const out = new Map<string, Array<[string, number]>>();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return out;
  }
  if (raw === null || typeof raw !== 'object') return out;
  const { v, routes } = raw as { v?: unknown; routes?: unknown };
  if (v !== 1 || routes === null || typeof routes !== 'object' || Array.isArray(routes)) return out;
  for (const [id, list] of Object.entries(routes as Record<string, unknown>)) {
    if (id.length > MAX_ID || !Array.isArray(list)) continue;
    const kept: Array<[string, number]> = [];
    for (const entry of list.slice(0, PATHS_PER_ROUTE)) {
      if (!Array.isArray(entry) || entry.length !== 2) continue;
      const [path, t] = entry as [unknown, unknown];
      if (typeof path === 'string' && pathEnd(path) === path.length && Number.isSafeInteger(t) && (t as number) >= 0) kept.push([path, t as number]);
    }
    if (kept.length) out.set(id, kept);
    if (out.size >= MAX_PATH_ROUTES) break;
  }
  return out;
}
