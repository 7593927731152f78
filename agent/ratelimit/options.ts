/**
 * A rate limiter's options as the app gives them (`agent.rateLimit(options)`),
 * and their validation: every option checked once, when the limiter is made,
 * with a coded error (ROUTELENS_ERR_INVALID_OPTION) naming it.
 *
 * Public types: written on api-types only, so no dependency's declarations
 * reach a user's compile.
 */
import type { AppRequest, AppResponse, Callback, Middleware, Next } from '../api-types';
import { RouteLensError, invalidOption } from '../errors';
import { ALGORITHMS, type Algorithm } from './algorithms';

export type StandardHeaders = 'draft-8' | 'draft-7' | 'draft-6';

export interface RateLimitOptions {
  /** Window length (ms). Default 60 000. */
  windowMs?: number;
  /** Requests allowed per key per window (token bucket: bucket size, refilled at `max` per window). Default 100. */
  max?: number;
  /** Unique name: shown in stats and the draft-8 headers, used in Redis keys and commands. Default `limiter-N`. */
  name?: string;
  /** Client key. Default: `req.ip` (honours the app's `trust proxy`), IPv6 addresses grouped by /56 subnet. */
  key?: Callback<[req: AppRequest], string>;
  /** Default 'fixed-window'. */
  algorithm?: Algorithm;
  /** Default 'redis' when the agent has Redis, else 'memory'. */
  store?: 'memory' | 'redis';
  /** When Redis fails or is slower than `timeout`: 'memory' (default) counts in an in-memory insurance limiter; 'fail-open' lets requests through. */
  onStoreError?: 'fail-open' | 'memory';
  /** Requests for which this returns true are not counted nor limited. */
  skip?: Callback<[req: AppRequest], boolean>;
  /** Keys never limited (nor counted). */
  allowList?: string[];
  /** `X-RateLimit-Limit/Remaining/Reset`. Default false. */
  legacyHeaders?: boolean;
  /** IETF draft of the standard headers. Default 'draft-8'. */
  standardHeaders?: StandardHeaders;
  /** Body of a limited response, or a function (req, res) returning it. Default "Too many requests, please try again later." */
  message?: unknown;
  /** Status of a limited response. Default 429. */
  statusCode?: number;
  /** Replaces the default limited response (express-rate-limit's handler signature). */
  handler?: Callback<[req: AppRequest, res: AppResponse, next: Next, options: LimitedResponseOptions], unknown>;
  /** Budget for one Redis call (ms). Default 50. */
  timeout?: number;
  /** Redis key prefix. Default `<app namespace>rl:<name>:`, e.g. `routelens:my-app:rl:login:` (docs/ratelimit.md). */
  prefix?: string;
  /** Keys the in-memory counter (store or insurance) holds before evicting the oldest. Default 10 000. */
  maxKeys?: number;
}

/**
 * What `agent.rateLimit()` returns: a middleware named after its limiter, and
 * the limiter itself for code paths that are not requests (a job, a WebSocket
 * message). Both count in the same store, under the same keys.
 */
export type RateLimitMiddleware = Middleware & {
  readonly limiterName: string;
  /** Whether `points` (default 1) would be allowed for `key` now, counting nothing. */
  check(key: string, points?: number): Promise<RateLimitResult>;
  /** Counts `points` (default 1) for `key`, as a request would count one. */
  consume(key: string, points?: number): Promise<RateLimitResult>;
};

/** What `check` and `consume` answer. */
export interface RateLimitResult {
  /** consume: the points were counted within the limit. check: `points` would be now. */
  allowed: boolean;
  /** The max in force. */
  limit: number;
  /** Points left in the window: after this call (consume), or now (check). */
  remaining: number;
  /** Milliseconds until the count resets (allowed; 0 when nothing is counted) or until `points` fit (refused). */
  resetMs: number;
  /** Set when Redis failed or was slow and the limiter's `onStoreError` policy answered. */
  fallback?: 'memory' | 'fail-open';
}

/** What a custom `handler` is told about the limiter that refused the request (express-rate-limit's options object). */
export interface LimitedResponseOptions {
  statusCode: number;
  message: unknown;
  windowMs: number;
}

/** A limiter's options with every default applied. */
export interface LimiterConfig {
  name: string;
  windowMs: number;
  /** The max at creation; `setMax` changes the limiter's, not this. */
  max: number;
  algorithm: Algorithm;
  store: 'memory' | 'redis';
  onStoreError: 'fail-open' | 'memory';
  key: RateLimitOptions['key'];
  skip: RateLimitOptions['skip'];
  /** Undefined when empty. */
  allowList: ReadonlySet<string> | undefined;
  legacyHeaders: boolean;
  standardHeaders: StandardHeaders;
  message: unknown;
  statusCode: number;
  handler: RateLimitOptions['handler'];
  timeout: number;
  prefix: string;
  maxKeys: number;
}

/** What validation needs to know of the limiters around this one. */
export interface NameContext {
  hasRedis: boolean;
  /** The app's namespace (`routelens:<app name>:`), the start of the default prefix. */
  namespace: string;
  /** A fresh `limiter-N`. */
  defaultName(): string;
  isTaken(name: string): boolean;
}

export const DEFAULT_MESSAGE = 'Too many requests, please try again later.';
const MAX_ALLOW_LIST = 10_000;
const NAME_RE = /^[A-Za-z0-9._:-]{1,64}$/;
const KNOWN_OPTIONS: ReadonlySet<string> = new Set<keyof RateLimitOptions>([
  'windowMs', 'max', 'name', 'key', 'algorithm', 'store', 'onStoreError', 'skip', 'allowList', 'legacyHeaders',
  'standardHeaders', 'message', 'statusCode', 'handler', 'timeout', 'prefix', 'maxKeys',
]);

/** Validates `options` (anything the app passed) into a LimiterConfig; throws ROUTELENS_ERR_INVALID_OPTION. */
export function resolveLimiterOptions(options: unknown, context: NameContext): LimiterConfig {
  if (options === undefined) options = {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw invalidOption('rateLimit options', 'an object', options);
  const given = options as Record<string, unknown>;
  for (const field of Object.keys(given)) {
    if (!KNOWN_OPTIONS.has(field)) throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `unknown rate limit option "${field.slice(0, 40)}"`);
  }
  const name = nameOf(given, context);
  const store = oneOf(given, 'store', ['memory', 'redis'] as const, context.hasRedis ? 'redis' : 'memory');
  if (store === 'redis' && !context.hasRedis) throw invalidOption('store', "'memory' when the agent has no Redis", store);
  return {
    name,
    windowMs: integer(given, 'windowMs', 60_000, 1, 2 ** 31 - 1),
    max: integer(given, 'max', 100, 0, 1e9),
    algorithm: oneOf(given, 'algorithm', ALGORITHMS, 'fixed-window'),
    store,
    onStoreError: oneOf(given, 'onStoreError', ['fail-open', 'memory'] as const, 'memory'),
    key: callback(given, 'key'),
    skip: callback(given, 'skip'),
    allowList: allowListOf(given),
    legacyHeaders: boolean(given, 'legacyHeaders', false),
    standardHeaders: oneOf(given, 'standardHeaders', ['draft-8', 'draft-7', 'draft-6'] as const, 'draft-8'),
    message: given.message === undefined ? DEFAULT_MESSAGE : given.message,
    statusCode: integer(given, 'statusCode', 429, 400, 599),
    handler: callback(given, 'handler'),
    timeout: integer(given, 'timeout', 50, 1, 60_000),
    prefix: prefixOf(given, `${context.namespace}rl:${name}:`),
    maxKeys: integer(given, 'maxKeys', 10_000, 1, 10_000_000),
  };
}

/** `max` for `setMax`: the same range as the option. */
export function validMax(max: unknown): number {
  if (max === undefined) throw invalidOption('max', 'an integer from 0 to 1000000000', max);
  return integer({ max }, 'max', 0, 0, 1e9);
}

function nameOf(given: Record<string, unknown>, context: NameContext): string {
  const name = given.name;
  if (name !== undefined && (typeof name !== 'string' || !NAME_RE.test(name))) throw invalidOption('name', '1 to 64 letters, digits, ".", "_", ":" or "-"', name);
  const resolved = name ?? context.defaultName();
  if (context.isTaken(resolved)) throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `option "name": a rate limiter named "${resolved}" already exists`);
  return resolved;
}

function allowListOf(given: Record<string, unknown>): ReadonlySet<string> | undefined {
  const list = given.allowList;
  if (list === undefined) return undefined;
  if (!Array.isArray(list) || list.length > MAX_ALLOW_LIST || !list.every((key) => typeof key === 'string')) {
    throw invalidOption('allowList', 'an array of at most 10 000 strings', list);
  }
  return list.length > 0 ? new Set(list as string[]) : undefined;
}

function prefixOf(given: Record<string, unknown>, fallback: string): string {
  const prefix = given.prefix;
  if (prefix === undefined) return fallback;
  if (typeof prefix !== 'string' || prefix.length < 1 || prefix.length > 200) throw invalidOption('prefix', 'a string of 1 to 200 characters', prefix);
  return prefix;
}

function integer(given: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const value = given[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalidOption(name, `an integer from ${min} to ${max}`, value);
  return value;
}

function oneOf<T extends string>(given: Record<string, unknown>, name: string, values: readonly T[], fallback: T): T {
  const value = given[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !values.includes(value as T)) throw invalidOption(name, `one of ${values.map((v) => `'${v}'`).join(', ')}`, value);
  return value as T;
}

function callback<T>(given: Record<string, unknown>, name: string): T | undefined {
  const value = given[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalidOption(name, 'a function', value);
  return value as T;
}

function boolean(given: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = given[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidOption(name, 'a boolean', value);
  return value;
}
