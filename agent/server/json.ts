/**
 * Serialisation that never throws: the fast path is
 * JSON.stringify; on failure (cycles, BigInt, a throwing toJSON) a careful
 * replacer truncates huge strings and replaces what cannot be written.
 */
import { truncate } from '../text';

export const MAX_STRING_CHARS = 16 * 1024;

export function safeStringify(value: unknown): string {
  try {
    const s = JSON.stringify(value);
    return s === undefined ? 'null' : s;
  } catch {
    return carefulStringify(value);
  }
}

function carefulStringify(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return (
      JSON.stringify(value, function (this: unknown, _key, v: unknown) {
        if (typeof v === 'bigint') return v.toString();
        if (typeof v === 'string') return v.length > MAX_STRING_CHARS ? truncate(v, MAX_STRING_CHARS, `…(${v.length - MAX_STRING_CHARS} more chars)`) : v;
        if (v !== null && typeof v === 'object') {
          if (seen.has(v)) return '[Circular]';
          seen.add(v);
        }
        return v;
      }) ?? 'null'
    );
  } catch {
    return 'null';
  }
}
