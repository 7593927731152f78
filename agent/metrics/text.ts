/**
 * Bounded strings. Everything the metrics keep that came from outside (URLs,
 * custom timing names, route templates) goes through here, so a 64 KiB URL or
 * a 1 MiB name costs at most a few hundred characters of memory.
 */
import { truncate } from '../text';

export { truncate } from '../text';

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
