/**
 * Serialisation helpers that never throw: cache values are JSON, and anything
 * shown to a client (inspect) is truncated at a code-point boundary.
 */
import { truncate } from '../text';

/** JSON text of a value, or an Error describing why it cannot be cached (cycles, BigInt, undefined, functions). */
export function serialise(value: unknown): string | Error {
  try {
    const text = JSON.stringify(value);
    if (typeof text !== 'string') return new Error(`a ${typeof value} value is not JSON-serialisable`);
    return text;
  } catch (err) {
    return new Error(`value is not JSON-serialisable: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
}

/** JSON text of anything, for display: cycles become "[Circular]", BigInt a string, never throws. */
export function displayJson(value: unknown, max: number): { text: string; truncated: boolean } {
  const seen = new WeakSet<object>();
  let text: string;
  try {
    text =
      JSON.stringify(value, (_k, v: unknown) => {
        if (typeof v === 'bigint') return `${v.toString()}n`;
        if (typeof v === 'function' || typeof v === 'symbol') return `[${typeof v}]`;
        if (v !== null && typeof v === 'object') {
          if (seen.has(v)) return '[Circular]';
          seen.add(v);
        }
        return v;
      }) ?? 'undefined';
  } catch (err) {
    text = `"[unserialisable: ${err instanceof Error ? err.message.split('\n')[0].slice(0, 200) : 'unknown'}]"`;
  }
  return text.length <= max ? { text, truncated: false } : { text: truncate(text, max, ''), truncated: true };
}
