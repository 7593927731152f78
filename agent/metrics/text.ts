/**
 * Bounded strings. Everything the metrics keep that came from outside (URLs,
 * custom timing names, route templates) goes through here, so a 64 KiB URL or
 * a 1 MiB name costs at most a few hundred characters of memory.
 */

/**
 * Copies `s` into a fresh flat string. `String.prototype.slice` may return a
 * V8 "sliced string" that keeps its (possibly huge) parent alive; a UTF-16
 * round trip through a Buffer does not, and keeps lone surrogates intact.
 */
export function detach(s: string): string {
  return Buffer.from(s, 'utf16le').toString('utf16le');
}

/** At most `max` UTF-16 units, ending in `…` when cut, never splitting a surrogate pair; detached from `s`. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max - 1;
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return detach(s.slice(0, end) + '…');
}

/** Longest path kept for a slow request. */
export const MAX_PATH = 512;

/**
 * The URL with every query value replaced by `*` (`/s?q=secret&page=2` →
 * `/s?q=*&page=*`; keys stay, a key without `=` stays as is), cut to `max`
 * characters. Work is bounded by `max`, not by the URL's length (apart from
 * one native `indexOf`).
 */
export function redactUrl(url: string, max: number = MAX_PATH): string {
  if (typeof url !== 'string') return '';
  const q = url.indexOf('?');
  if (q < 0) return truncate(url, max);
  if (q >= max) return truncate(url.slice(0, q), max);
  const parts: string[] = [url.slice(0, q + 1)];
  let length = q + 1;
  let pos = q + 1;
  let first = true;
  while (pos <= url.length && length <= max) {
    let amp = url.indexOf('&', pos);
    if (amp < 0) amp = url.length;
    // Only the key matters: scan for `=` no further than the budget left.
    const limit = Math.min(amp, pos + max - length + 1);
    let eq = -1;
    for (let i = pos; i < limit; i++) {
      if (url.charCodeAt(i) === 61 /* = */) {
        eq = i;
        break;
      }
    }
    const piece = eq >= 0 ? url.slice(pos, eq) + '=*' : url.slice(pos, limit);
    if (!first) {
      parts.push('&');
      length++;
    }
    parts.push(piece);
    length += piece.length;
    first = false;
    pos = amp + 1;
  }
  // join() builds a flat string: nothing of `url` is retained.
  const out = parts.join('');
  return out.length <= max ? out : truncate(out, max);
}
