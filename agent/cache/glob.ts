/**
 * Glob patterns for cache invalidation and listing. One dialect for both tiers:
 * `*` (any run of characters, including none), `?` (one character) and `\`
 * escapes. Character classes are refused: they are where Redis's own matcher
 * had its CVEs (CVE-2022-36021, CVE-2024-31228) and nobody needs them to
 * invalidate cache keys.
 *
 * The in-memory matcher is compiled once per pattern and never backtracks:
 * the pattern is split at `*` into literal segments (with `?` holes), the
 * first anchored at the start, the last at the end, the middle ones found
 * leftmost-first in order. Leftmost is always right for star-separated
 * segments, so the cost is O(key length × segment length), bounded by the
 * validator.
 */
import { RouteLensError } from '../errors';

export const MAX_PATTERN_LENGTH = 256;
export const MAX_PATTERN_WILDCARDS = 8;

/** Throws RouteLensError('ROUTELENS_ERR_PATTERN_REJECTED') unless the pattern is safe for both tiers. */
export function validatePattern(pattern: unknown): asserts pattern is string {
  if (typeof pattern !== 'string' || pattern.length === 0) reject('a pattern must be a non-empty string');
  if (pattern.length > MAX_PATTERN_LENGTH) reject(`pattern longer than ${MAX_PATTERN_LENGTH} characters`);
  let wildcards = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) reject('pattern contains a control character');
    const ch = pattern[i];
    if (ch === '\\') {
      if (i === pattern.length - 1) reject('pattern ends with a lone backslash');
      i++;
      continue;
    }
    if (ch === '[' || ch === ']') reject('character classes ([...]) are not allowed in patterns');
    if (ch === '*' || ch === '?') {
      wildcards++;
      if (wildcards > MAX_PATTERN_WILDCARDS) reject(`pattern has more than ${MAX_PATTERN_WILDCARDS} wildcards`);
    }
  }
}

function reject(message: string): never {
  throw new RouteLensError('ROUTELENS_ERR_PATTERN_REJECTED', message);
}

/** Escapes a literal (a prefix, a namespace) so Redis and our matcher read it verbatim. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&');
}

/** A literal run with `?` holes: `chars[i]` is the character, or undefined for `?`. */
type Segment = Array<string | undefined>;

export type GlobMatcher = (key: string) => boolean;

/** Compiles a validated pattern into a linear matcher. Call validatePattern first for untrusted input. */
export function compileGlob(pattern: string): GlobMatcher {
  const segments: Segment[] = [[]];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) segments[segments.length - 1].push(pattern[++i]);
    else if (ch === '*') {
      if (segments[segments.length - 1].length > 0 || segments.length === 1) segments.push([]);
    } else if (ch === '?') segments[segments.length - 1].push(undefined);
    else segments[segments.length - 1].push(ch);
  }
  if (segments.length === 1) {
    const only = segments[0];
    return (key) => key.length === only.length && matchAt(key, 0, only);
  }
  const first = segments[0];
  const last = segments[segments.length - 1];
  const middle = segments.slice(1, -1).filter((s) => s.length > 0);
  const minLength = segments.reduce((n, s) => n + s.length, 0);
  return (key) => {
    if (key.length < minLength) return false;
    if (!matchAt(key, 0, first)) return false;
    const end = key.length - last.length;
    if (!matchAt(key, end, last)) return false;
    let pos = first.length;
    for (const seg of middle) {
      const found = findFrom(key, pos, end, seg);
      if (found < 0) return false;
      pos = found + seg.length;
    }
    return pos <= end;
  };
}

function matchAt(key: string, at: number, seg: Segment): boolean {
  for (let j = 0; j < seg.length; j++) {
    const want = seg[j];
    if (want !== undefined && key[at + j] !== want) return false;
  }
  return true;
}

/** Leftmost position >= from where seg fits entirely before `end`, or -1. */
function findFrom(key: string, from: number, end: number, seg: Segment): number {
  for (let i = from; i + seg.length <= end; i++) if (matchAt(key, i, seg)) return i;
  return -1;
}
