/**
 * Option checks shared by every resolver (createAgent, createCache,
 * cacheResponses, rateLimit): each reads one field of an options object,
 * returns its value or the default, and throws ROUTELENS_ERR_INVALID_OPTION
 * naming the field, what it takes and what it got. `label` is the name shown
 * (`cache.maxEntries` when the field sits inside another option).
 */
import type { RedisClient } from './api-types';
import { RouteLensError, invalidOption, unknownOption } from './errors';

export type Fields = Record<string, unknown>;

/** A plain object (not null, not an array), or ROUTELENS_ERR_INVALID_OPTION. */
export function object(value: unknown, label: string): Fields {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidOption(label, 'an object', value);
  return value as Fields;
}

/** Refuses a field no one defines, naming the nearest known one. */
export function knownFields(o: Fields, known: readonly string[], scope: string): void {
  for (const k of Object.keys(o)) if (!known.includes(k)) throw unknownOption(scope, k, known);
}

export interface Range {
  min: number;
  max?: number;
  /** Only whole numbers. */
  integer?: boolean;
}

/** What a range takes, in words: `an integer from 1 to 100`, `a number ≥ 0`. */
export function rangeText({ min, max = Infinity, integer = false }: Range): string {
  const kind = integer ? 'an integer' : 'a number';
  return max === Infinity ? `${kind} ≥ ${min}` : `${kind} from ${min} to ${max}`;
}

export function inRange(v: unknown, { min, max = Infinity, integer = false }: Range): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max && (!integer || Number.isInteger(v));
}

export function number(o: Fields, name: string, def: number, range: Range, label = name): number {
  const v = o[name];
  if (v === undefined) return def;
  if (!inRange(v, range)) throw invalidOption(label, rangeText(range), v);
  return v;
}

export function boolean(o: Fields, name: string, def: boolean, label = name): boolean {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== 'boolean') throw invalidOption(label, 'true or false', v);
  return v;
}

export function oneOf<T extends string>(o: Fields, name: string, values: readonly T[], def: T, label = name): T {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !values.includes(v as T)) throw invalidOption(label, `one of ${values.map((x) => `'${x}'`).join(', ')}`, v);
  return v as T;
}

export function fn<T>(o: Fields, name: string, label = name): T | undefined {
  const v = o[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'function') throw invalidOption(label, 'a function', v);
  return v as T;
}

export function string(o: Fields, name: string, def: string, length: { min: number; max: number }, label = name): string {
  const v = o[name];
  if (v === undefined) return def;
  if (typeof v !== 'string' || v.length < length.min || v.length > length.max) throw invalidOption(label, stringText(length), v);
  return v;
}

function stringText({ min, max }: { min: number; max: number }): string {
  return min > 0 ? `a string of ${min} to ${max} characters` : `a string of at most ${max} characters`;
}

export const REDIS_EXPECTED = 'a redis:// or rediss:// URL, or an ioredis client without keyPrefix';

/**
 * The one check of a Redis option (the agent's `redis`, the cache's `redis`,
 * ROUTELENS_REDIS_URL): a redis:// or rediss:// URL, or an ioredis client
 * without keyPrefix (the cache and the limiters prefix keys themselves).
 */
export function redis(value: unknown, label = 'redis'): string | RedisClient | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    if (!/^rediss?:\/\/./.test(value)) throw invalidOption(label, 'a redis:// or rediss:// URL', value);
    return value;
  }
  if (value === null || typeof value !== 'object' || typeof (value as { getBuffer?: unknown }).getBuffer !== 'function') throw invalidOption(label, REDIS_EXPECTED, value);
  const keyPrefix = (value as { options?: { keyPrefix?: unknown } }).options?.keyPrefix;
  if (keyPrefix) {
    throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `option "${label}" must be an ioredis client without keyPrefix (RouteLens prefixes its keys itself), got one with keyPrefix`);
  }
  return value as RedisClient;
}
