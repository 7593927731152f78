/**
 * Route paths as Express accepts them (string, RegExp, nested arrays of both) turned into
 * readable templates and joinable, matchable pieces. Pure: no Express, no state.
 *
 * A path argument becomes a `PathPart`: one `Alt` per alternative (an array path has several).
 * `text` is the readable form used in templates: mount prefixes lose their trailing slash and
 * `/` becomes `''`, so `join('/api', '/users/:id')` is plain concatenation.
 */
import { truncate } from '../text';

/** Longest template we keep; longer ones are cut. */
export const MAX_TEMPLATE = 512;
const MAX_ALTS = 32;

export interface Alt {
  /** Readable template piece: `/users/:id`, `''` for the root, `/^\/x$/i` for a RegExp. */
  readonly text: string;
  /** Regular-expression source matching this piece (anchors stripped), for matchRoute. */
  readonly source: string;
}

export type PathPart = readonly Alt[];

/**
 * `items` in an array of just their length. An array built by push keeps room for 16 more (V8
 * grows a backing store by half plus 16): 128 bytes in every one of the route model's arrays that
 * outlive registration, which is per route.
 */
export function exact<T>(items: T[]): T[] {
  return items.slice();
}

/** The part for a path argument; `mount` trims trailing slashes (use() prefixes). */
export function toPart(path: unknown, mount: boolean): PathPart {
  const out: Alt[] = [];
  collect(path, mount, out, 0);
  return out.length ? exact(out) : [{ text: '', source: '' }];
}

function collect(path: unknown, mount: boolean, out: Alt[], depth: number): void {
  if (out.length >= MAX_ALTS || depth > 8) return;
  if (Array.isArray(path)) {
    for (const p of path) collect(p, mount, out, depth + 1);
  } else if (path instanceof RegExp) {
    const src = path.source.replace(/^\^/, '').replace(/\\\/\?\$$|\/\?\$$|\$$/, '');
    out.push({ text: truncate(String(path), MAX_TEMPLATE), source: `(?:${src})` });
  } else {
    let text = typeof path === 'string' ? path : safeString(path);
    if (mount) text = text.replace(/\/+$/, '');
    else if (text === '/') text = '';
    if (text !== '' && text[0] !== '/') text = '/' + text;
    text = truncate(text, MAX_TEMPLATE);
    out.push({ text, source: stringSource(text) });
  }
}

/** Every combination of prefix × part, joined (bounded). */
export function joinParts(prefix: PathPart, part: PathPart): Alt[] {
  const out: Alt[] = [];
  for (const a of prefix) {
    for (const b of part) {
      if (out.length >= MAX_ALTS) return out;
      out.push({ text: truncate(flatConcat(a.text, b.text), MAX_TEMPLATE), source: flatConcat(a.source, b.source) });
    }
  }
  return exact(out);
}

/**
 * `a + b` as one flat string. V8 makes `a + b` (13 characters or more) a pair of the two (a cons
 * string, 32 bytes) that is flattened only when read whole; the route model keeps its templates
 * and sources for the app's life, one per route, so it keeps them flat: a join copies the
 * characters once. An empty side gives the other string itself (nothing copied).
 */
export function flatConcat(a: string, b: string): string {
  return a === '' ? b : b === '' ? a : [a, b].join('');
}

/** The template as reported: the root is `/`. */
export function templateOf(text: string): string {
  return text === '' ? '/' : text;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '?';
  }
}


/** An anchored, case-insensitive matcher for a full joined source (trailing slash allowed). */
export function compileMatcher(source: string): RegExp | undefined {
  try {
    return new RegExp(`^${source}\\/?$`, 'i');
  } catch {
    return undefined;
  }
}

/**
 * Regex source for a string path in Express 4 (path-to-regexp 0.1) or Express 5 (v8) syntax:
 * `:name`, `:name?`, `:name(\d+)`, `*`, `*name`, `{optional}`. Best effort: it only serves to
 * attribute a request that never reached the router (rate-limited) to a template.
 */
export function stringSource(text: string): string {
  // The pieces joined at the end: one flat string (`+=` would leave a cons string per route).
  const out: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ':') {
      let j = i + 1;
      if (text[j] === '"') {
        j = text.indexOf('"', j + 1);
        j = j < 0 ? text.length : j + 1;
      } else {
        while (j < text.length && /[\w$]/.test(text[j]!)) j++;
      }
      let group = '[^/]+?';
      if (text[j] === '(') {
        const end = closingParen(text, j);
        group = text.slice(j + 1, end);
        j = end + 1;
      }
      const mod = text[j];
      if (mod === '?' || mod === '*' || mod === '+') {
        j++;
        // An escaped slash is always a piece of its own (escape below).
        const slash = out[out.length - 1] === '\\/';
        if (slash) out.pop();
        const lead = slash ? '\\/' : '';
        out.push(mod === '?' ? `(?:${lead}(?:${group}))?` : mod === '*' ? `(?:${lead}.*)?` : `${lead}.+`);
      } else {
        out.push(`(?:${group})`);
      }
      i = j - 1;
    } else if (c === '*') {
      let j = i + 1;
      while (j < text.length && /[\w$]/.test(text[j]!)) j++;
      out.push('.*');
      i = j - 1;
    } else if (c === '{') {
      out.push('(?:');
    } else if (c === '}') {
      out.push(')?');
    } else if (c === '\\' && i + 1 < text.length) {
      out.push(escape(text[++i]!));
    } else {
      out.push(escape(c));
    }
  }
  return out.join('');
}

function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return text.length - 1;
}

function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}
