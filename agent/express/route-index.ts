/**
 * The route table's index: which registered routes a path can match, found without trying every
 * route's matcher, so matching a request that never reached the router (a global limiter's 429, a
 * 404) costs the same with 5 routes or 5,000.
 *
 * A route whose template is plain segments (literals and `:name` parameters, as matcher and
 * template agree on) goes into a tree of segments: a path walks it one segment at a time (a
 * literal child, case-insensitively, and a parameter child), so the routes it reaches are those
 * whose shape fits. Every other route (a RegExp, a wildcard, an optional or constrained
 * parameter, a path the template does not spell out) is tried in order, as before. Candidates are
 * still confirmed by their own matcher, and the first registered wins, so the answer is the one
 * a scan in registration order gives.
 */
import { type FullRoute, matcherOf } from './model';
import { stringSource } from './paths';

/** Paths with more segments than this are matched by the scan (the walk branches per segment). */
const MAX_SEGMENTS = 32;
/** ASCII only, so lower-casing agrees with the matchers' case-insensitive comparison. */
const PLAIN_LITERAL = /^[A-Za-z0-9._~!$&'=,;@%-]+$/;
const PLAIN_PARAM = /^:[A-Za-z_$][\w$]*$/;
const SLASH = 47;

/**
 * A node of the tree, or a number. Kept small: the tree holds every plain route.
 * - `i` ≥ 0: a leaf holding one route (its position in registration order) and nothing below,
 *   most routes' last segment;
 * - `~i` (negative): a node holding only a parameter leaf of route `i`, most routes' last
 *   literal (`users` in `/users/:id`).
 */
type Child = Node | number;

interface Node {
  literals: Map<string, Child> | undefined;
  param: Child | undefined;
  /** Positions (in registration order, ascending) of the routes whose template ends here. */
  ends: number | number[] | undefined;
}

const node = (ends?: number, param?: number): Node => ({ literals: undefined, param, ends });

/** `child` as a node, to add to it. */
function expand(child: Child): Node {
  if (typeof child !== 'number') return child;
  return child >= 0 ? node(child) : node(undefined, ~child);
}

/** `ends` with one more route (positions only grow). */
function withEnd(ends: Node['ends'], i: number): Node['ends'] {
  if (ends === undefined) return i;
  return typeof ends === 'number' ? [ends, i] : ends.concat(i);
}

/** The first route of `child`'s ends (ascending) for which `take` holds, else -1. */
function firstEnd(child: Child, take: (i: number) => boolean): number {
  const ends = typeof child === 'number' ? (child >= 0 ? child : undefined) : child.ends;
  if (ends === undefined) return -1;
  if (typeof ends === 'number') return take(ends) ? ends : -1;
  for (const i of ends) if (take(i)) return i;
  return -1;
}

export class RouteIndex {
  readonly #root = node();
  /** Positions of the routes the tree cannot hold, in registration order. */
  readonly #scanned: number[] = [];
  /** Routes indexed so far (a prefix of the table, which only grows). */
  #count = 0;

  /** Indexes the routes registered since the last call (the table only grows). */
  update(order: readonly FullRoute[]): void {
    for (; this.#count < order.length; this.#count++) {
      const segments = plainSegments(order[this.#count]!);
      if (segments === undefined) this.#scanned.push(this.#count);
      else this.#insert(segments, this.#count);
    }
  }

  /** The first registered route (position in `order`) that `accepts` and whose matcher matches `path`, else -1. */
  first(order: readonly FullRoute[], path: string, accepts: (full: FullRoute) => boolean): number {
    let best = -1;
    /** Whether route `i` matches before the best so far (it then becomes the best). */
    const test = (i: number): boolean => {
      if (best >= 0 && i >= best) return false;
      const full = order[i]!;
      if (!accepts(full) || matcherOf(full)?.test(path) !== true) return false;
      best = i;
      return true;
    };
    const segments = splitPath(path);
    if (segments === undefined) {
      for (let i = 0; i < this.#count; i++) test(i);
      return best;
    }
    for (const i of this.#scanned) {
      if (best >= 0) break;
      test(i);
    }
    this.#walk(this.#root, segments, 0, test);
    return best;
  }

  /**
   * `first` guessed for a request's URL (query ignored) at its start, for sampling: a route the
   * tree holds is taken on its shape, its matcher neither compiled nor run (case sensitivity,
   * strict trailing slashes and encoded literals are not checked), and the path is walked in place,
   * with no array made for it. Routes the tree cannot hold are still tried by their matchers.
   */
  guess(order: readonly FullRoute[], url: string, method: string): number {
    const q = url.indexOf('?');
    const pathEnd = q < 0 ? url.length : q;
    if (url.charCodeAt(0) !== SLASH) return -1;
    const end = pathEnd > 1 && url.charCodeAt(pathEnd - 1) === SLASH ? pathEnd - 1 : pathEnd;
    let best = this.#guessWalk(this.#root, order, url, 1, end, method, -1);
    if (this.#scanned.length > 0 && (best < 0 || this.#scanned[0]! < best)) {
      const path = url.slice(0, pathEnd);
      for (const i of this.#scanned) {
        if (best >= 0 && i >= best) break;
        if (reaches(order[i]!, method) && matcherOf(order[i]!)?.test(path) === true) best = i;
      }
    }
    return best;
  }

  #guessWalk(at: Child, order: readonly FullRoute[], url: string, start: number, end: number, method: string, best: number): number {
    if (start >= end) {
      const i = firstEnd(at, (i) => (best < 0 || i < best) && reaches(order[i]!, method));
      return i >= 0 ? i : best;
    }
    if (typeof at === 'number' && at >= 0) return best;
    let next = url.indexOf('/', start);
    if (next < 0 || next > end) next = end;
    if (typeof at === 'number') return next > start ? this.#guessWalk(~at, order, url, next + 1, end, method, best) : best;
    const literal = at.literals?.get(url.slice(start, next).toLowerCase());
    if (literal !== undefined) best = this.#guessWalk(literal, order, url, next + 1, end, method, best);
    if (at.param !== undefined && next > start) best = this.#guessWalk(at.param, order, url, next + 1, end, method, best);
    return best;
  }

  /** Routes the tree holds and routes tried in order (for tests). */
  get sizes(): { indexed: number; scanned: number } {
    return { indexed: this.#count - this.#scanned.length, scanned: this.#scanned.length };
  }

  /** Adds route `i` under its segments (at least one: the template `/` is scanned). */
  #insert(segments: readonly string[], i: number): void {
    let at = this.#root;
    for (let d = 0; d < segments.length; d++) {
      const s = segments[d]!;
      const child = s === '' ? at.param : (at.literals ??= new Map()).get(s);
      const last = d === segments.length - 1;
      let next: Child;
      if (child === undefined) {
        // A new branch: a leaf, a node holding only a parameter leaf, or a node to go on from.
        next = last ? i : d === segments.length - 2 && segments[d + 1] === '' ? ~i : node();
      } else {
        const n = expand(child);
        if (last) n.ends = withEnd(n.ends, i);
        next = n;
      }
      if (next !== child) {
        if (s === '') at.param = next;
        else at.literals!.set(s, next);
      }
      if (typeof next === 'number') return;
      at = next;
    }
  }

  #walk(at: Child, segments: readonly string[], depth: number, test: (i: number) => boolean): void {
    if (depth === segments.length) {
      firstEnd(at, test);
      return;
    }
    const s = segments[depth]!;
    if (typeof at === 'number') {
      if (at < 0 && s !== '') this.#walk(~at, segments, depth + 1, test);
      return;
    }
    const literal = at.literals?.get(s.toLowerCase());
    if (literal !== undefined) this.#walk(literal, segments, depth + 1, test);
    if (at.param !== undefined && s !== '') this.#walk(at.param, segments, depth + 1, test);
  }
}

/**
 * A route's template as segments (lower-case literals; `''` for a parameter) when its matcher is
 * exactly the one its template gives and every segment is plain, else undefined.
 */
function plainSegments(full: FullRoute): string[] | undefined {
  const text = full.route;
  if (full.source === undefined || text[0] !== '/' || text.length < 2) return undefined;
  if (full.source !== stringSource(text)) return undefined;
  const out: string[] = [];
  for (const s of text.slice(1).split('/')) {
    if (PLAIN_PARAM.test(s)) out.push('');
    else if (PLAIN_LITERAL.test(s)) out.push(s.toLowerCase());
    else return undefined;
  }
  return out;
}

/** A path's segments (one trailing slash dropped, as the matchers allow it); undefined when the walk should not be used. */
function splitPath(path: string): string[] | undefined {
  if (path[0] !== '/') return undefined;
  const body = path.length > 1 && path.endsWith('/') ? path.slice(1, -1) : path.slice(1);
  if (body === '') return [];
  const segments = body.split('/', MAX_SEGMENTS + 1);
  return segments.length > MAX_SEGMENTS ? undefined : segments;
}

/** Whether a request of `method` reaches a route of its method: HEAD reaches GET, OPTIONS any method. */
export function reaches(full: FullRoute, method: string): boolean {
  const fm = full.method;
  return fm === method || fm === 'ALL' || method === 'OPTIONS' || (method === 'HEAD' && fm === 'GET');
}
