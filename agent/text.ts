/**
 * The agent's one `truncate` and one `round`. Strings that came from outside
 * (URLs, names, keys, option values in messages) are cut here, so a 64 KiB URL
 * costs a few hundred characters; figures sent to clients are rounded here.
 */

/**
 * Copies `s` into a fresh flat string. `String.prototype.slice` may return a
 * V8 "sliced string" that keeps its (possibly huge) parent alive; a UTF-16
 * round trip through a Buffer does not, and keeps lone surrogates intact.
 */
export function detach(s: string): string {
  return Buffer.from(s, 'utf16le').toString('utf16le');
}

/**
 * At most `max` UTF-16 units including `mark` (default `…`) when cut, never
 * splitting a surrogate pair, detached from `s`. `mark: ''` cuts cleanly.
 */
export function truncate(s: string, max: number, mark = '…'): string {
  if (s.length <= max) return s;
  let end = Math.max(0, max - mark.length);
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return detach(s.slice(0, end) + mark);
}

/** `n` rounded to `digits` decimals (default 3), as sent to clients. */
export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
