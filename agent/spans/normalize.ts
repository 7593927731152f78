/**
 * Span names that never carry a value. Query text has its literals replaced by `?` (strings,
 * numbers, hex and booleans; `IN (?, ?, ?)` folds to `IN (?)`), whitespace collapsed and the
 * result length-capped. Redis commands keep the command and the key's shape (digit runs and
 * long hex/uuid segments become `?`), never the other arguments. URLs keep host and path shape,
 * never the query values.
 */

/** Longest normalised query kept (the rest becomes `…`). */
export const MAX_QUERY = 200;

const STRING = /'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"|\$(\w*)\$[\s\S]*?\$\1\$/g;
const NUMBER = /(?<![\w$.])-?(?:0x[0-9a-f]+|\d+(?:\.\d+)?(?:e[+-]?\d+)?)(?![\w])/gi;
const BOOLEAN = /\b(?:true|false)\b/gi;
const LIST = /\(\s*\?(?:\s*,\s*\?)+\s*\)/g;
const SPACE = /\s+/g;
const COMMENT = /--[^\n]*|\/\*[\s\S]*?\*\//g;

/**
 * `SELECT * FROM items WHERE order_id = 42 AND name = 'x'` → `SELECT * FROM items WHERE order_id = ? AND name = ?`.
 * Double-quoted text is kept when it is an identifier in SQL (`"users"."id"`); only single-quoted
 * and dollar-quoted strings are values. Placeholders (`$1`, `?`, `:name`) stay as they are.
 */
export function normaliseQuery(text: unknown, max = MAX_QUERY): string {
  if (typeof text !== 'string') return '(query)';
  let q = text.length > 8 * max ? text.slice(0, 8 * max) : text;
  q = q.replace(COMMENT, ' ');
  q = q.replace(STRING, (m) => (m.startsWith('"') ? m : '?'));
  q = q.replace(NUMBER, '?');
  q = q.replace(BOOLEAN, '?');
  q = q.replace(LIST, '(?)');
  q = q.replace(SPACE, ' ').trim();
  return cap(q, max);
}

/** A key's shape: `users:42:profile` → `users:?:profile`; uuids and long hex become `?`. */
export function keyShape(key: unknown, max = 80): string {
  if (typeof key !== 'string') return typeof key === 'number' ? '?' : '';
  const shape = key.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '?').replace(/\b[0-9a-f]{16,}\b/gi, '?').replace(/\d+/g, '?');
  return cap(shape, max);
}

/** `GET users:?`: the command in capitals and its first key's shape (no other argument). */
export function redisName(command: unknown, args: readonly unknown[] | undefined): string {
  const cmd = typeof command === 'string' ? command.toUpperCase() : 'COMMAND';
  const first = args !== undefined && args.length > 0 ? args[0] : undefined;
  if (first === undefined || NO_KEY.has(cmd)) return cmd;
  const shape = keyShape(typeof first === 'string' ? first : Buffer.isBuffer(first) ? first.toString('latin1') : undefined);
  return shape === '' ? cmd : `${cmd} ${shape}`;
}

/** Commands whose first argument is not a key (or is a secret). */
const NO_KEY = new Set(['AUTH', 'HELLO', 'SELECT', 'PING', 'ECHO', 'INFO', 'CLIENT', 'CONFIG', 'EVAL', 'EVALSHA', 'SCRIPT', 'PUBLISH', 'SUBSCRIBE', 'MULTI', 'EXEC', 'QUIT', 'FLUSHDB', 'FLUSHALL']);

/** `GET api.example.com/users/?`: method, host and the path's shape; the query string is dropped. */
export function httpName(method: unknown, host: unknown, path: unknown): string {
  const m = typeof method === 'string' ? method.toUpperCase() : 'GET';
  const h = typeof host === 'string' ? host : '';
  let p = typeof path === 'string' ? path : '/';
  const q = p.indexOf('?');
  if (q >= 0) p = p.slice(0, q);
  p = p.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '?').replace(/(?<=\/)[^/]+/g, (seg) => (ID_SEGMENT.test(seg) ? '?' : seg));
  return cap(`${m} ${h}${p}`, MAX_QUERY);
}

/** A path segment that is an id: digits, long hex, or anything with a run of 3+ digits (`v2` stays). */
const ID_SEGMENT = /^\d+$|^[0-9a-f]{8,}$|\d{3,}/i;

function cap(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
