/**
 * The cache's options, resolved and validated once in `createCache` (defaults,
 * then the options, then environment overrides, which win), and the argument
 * checks every call shares (keys, tags, ttls, priorities). Bad input throws
 * `ROUTELENS_ERR_INVALID_OPTION`. Nothing else in the cache reads process.env.
 */
import { randomUUID } from 'node:crypto';
import { invalidOption, RouteLensError } from '../errors';
import { appNamespace, defaultAppName } from '../namespace';
import * as check from '../check';
import { truncate } from '../text';
import type { CacheOptions, HotKeyOptions, PredictiveOptions, Priority, ScheduledWarmer, Warmer } from './types';

/** Environment variables that override cache options. */
export const CACHE_ENV = {
  maxEntries: 'ROUTELENS_CACHE_MAX_ENTRIES',
  maxBytes: 'ROUTELENS_CACHE_MAX_BYTES',
  ttl: 'ROUTELENS_CACHE_TTL',
  /** 0/false: no warmer runs by itself (at start or on a schedule); 1/true: warm at start. */
  warm: 'ROUTELENS_CACHE_WARM',
} as const;

const CACHE_OPTION_NAMES = [
  'redis', 'prefix', 'maxEntries', 'maxBytes', 'maxEntryBytes', 'ttl', 'namespaces', 'l1Ttl', 'timeout', 'grace',
  'compressAbove', 'warmers', 'warmOnStart', 'channel', 'instanceId', 'breaker', 'scanBudget', 'maxEvents',
  'predictive', 'hotKeys',
] as const satisfies ReadonlyArray<keyof CacheOptions>;
const allNamed: Exclude<keyof CacheOptions, (typeof CACHE_OPTION_NAMES)[number]> extends never ? true : never = true;
void allNamed;

const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];
const MIN_WARM_EVERY = 1000;

/** Longest key accepted (the protocol's limit for `cache.inspect` and `cache.invalidate`). */
export const MAX_KEY_LENGTH = 4096;
const MAX_TAGS = 32;
export const MAX_TAG_LENGTH = 512;

export interface NamespacePolicy {
  ttl: number | undefined;
  /** false: kept out of L1 when Redis is there (hot keys excepted). */
  l1: boolean;
  priority: Priority | undefined;
  predictive: boolean;
}

export interface WarmerPolicy {
  load: Warmer;
  /** 0 = no schedule. */
  every: number;
  timeout: number;
}

export type Resolved = Required<Omit<CacheOptions, 'redis' | 'namespaces' | 'warmers' | 'breaker' | 'compressAbove' | 'predictive' | 'hotKeys'>> & {
  compressAbove: number;
  namespaces: Map<string, NamespacePolicy>;
  warmers: Map<string, WarmerPolicy>;
  /** Scheduled warmer runs are on (ROUTELENS_CACHE_WARM=0 turns them off). */
  warmSchedules: boolean;
  breakerThreshold: number;
  breakerCooldown: number;
  predictive: Required<PredictiveOptions>;
  hotKeys: Required<HotKeyOptions>;
};

export function resolveOptions(options: CacheOptions, env: NodeJS.ProcessEnv = process.env): Resolved {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object', options);
  const o = withEnv(options, env);
  const nonNeg = (name: keyof CacheOptions, def: number, min = 0): number => check.number(o as Record<string, unknown>, name, def, { min }, `cache.${name}`);
  check.knownFields(o as Record<string, unknown>, CACHE_OPTION_NAMES, 'cache');
  check.redis(o.redis, 'cache.redis');
  // The agent passes its app's namespace; a standalone cache takes the one the agent would by default.
  const prefix = o.prefix ?? appNamespace(defaultAppName());
  if (typeof prefix !== 'string' || prefix.length > 256) throw invalidOption('prefix', 'a string of at most 256 characters', prefix);
  const namespaces = resolveNamespaces(o.namespaces);
  const warmers = resolveWarmers(o.warmers);
  if (o.warmOnStart !== undefined && typeof o.warmOnStart !== 'boolean') throw invalidOption('warmOnStart', 'a boolean', o.warmOnStart);
  for (const name of ['channel', 'instanceId'] as const) {
    const v = o[name];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0 || v.length > 256)) throw invalidOption(name, 'a non-empty string of at most 256 characters', v);
  }
  const b = o.breaker ?? {};
  if (b === null || typeof b !== 'object') throw invalidOption('breaker', 'an object', b);
  const breakerThreshold = b.threshold ?? 3;
  const breakerCooldown = b.cooldown ?? 1000;
  if (!Number.isInteger(breakerThreshold) || breakerThreshold < 1) throw invalidOption('breaker.threshold', 'an integer >= 1', breakerThreshold);
  if (typeof breakerCooldown !== 'number' || !Number.isFinite(breakerCooldown) || breakerCooldown < 0) throw invalidOption('breaker.cooldown', 'a finite number >= 0', breakerCooldown);
  const maxBytes = nonNeg('maxBytes', 50 * 1024 * 1024, 1);
  return {
    prefix,
    maxEntries: Math.floor(nonNeg('maxEntries', 10_000, 1)),
    maxBytes,
    maxEntryBytes: Math.min(nonNeg('maxEntryBytes', 1024 * 1024, 1), maxBytes),
    ttl: nonNeg('ttl', 0),
    l1Ttl: nonNeg('l1Ttl', 60_000),
    timeout: nonNeg('timeout', 50, 1),
    grace: nonNeg('grace', 0),
    compressAbove: o.compressAbove === undefined ? Infinity : nonNeg('compressAbove', Infinity),
    warmOnStart: o.warmOnStart ?? false,
    warmSchedules: warmSwitch(env) !== false,
    channel: o.channel ?? `${prefix}invalidations`,
    instanceId: o.instanceId ?? randomUUID(),
    scanBudget: nonNeg('scanBudget', 2000, 1),
    maxEvents: Math.floor(nonNeg('maxEvents', 500, 0)),
    namespaces,
    warmers,
    breakerThreshold,
    breakerCooldown,
    predictive: resolvePredictive(o.predictive),
    hotKeys: {
      threshold: bounded('hotKeys.threshold', o.hotKeys?.threshold, 60, 1, 1e9),
      maxKeys: Math.floor(bounded('hotKeys.maxKeys', o.hotKeys?.maxKeys, 1000, 1, 1_000_000)),
    },
  };
}

/** The options with the environment's overrides applied (an empty variable is ignored; a malformed one throws). */
function withEnv(o: CacheOptions, env: NodeJS.ProcessEnv): CacheOptions {
  const out: CacheOptions = { ...o };
  const num = (name: 'maxEntries' | 'maxBytes' | 'ttl') => {
    const raw = env[CACHE_ENV[name]];
    if (raw === undefined || raw.trim() === '') return;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < (name === 'ttl' ? 0 : 1)) throw invalidOption(CACHE_ENV[name], name === 'ttl' ? 'a number of ms >= 0' : 'a number >= 1', raw);
    out[name] = v;
  };
  num('maxEntries');
  num('maxBytes');
  num('ttl');
  const warm = warmSwitch(env);
  if (warm !== undefined) out.warmOnStart = warm;
  return out;
}

function warmSwitch(env: NodeJS.ProcessEnv): boolean | undefined {
  const raw = env[CACHE_ENV.warm];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw invalidOption(CACHE_ENV.warm, '1, true, 0 or false', raw);
}

function bounded(name: string, v: unknown, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw invalidOption(name, `a number from ${min} to ${max}`, v);
  return v;
}

export function checkPriority(name: string, v: unknown): Priority | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !PRIORITIES.includes(v as Priority)) throw invalidOption(name, "'high', 'normal' or 'low'", v);
  return v as Priority;
}

function resolveNamespaces(given: CacheOptions['namespaces']): Map<string, NamespacePolicy> {
  const namespaces = new Map<string, NamespacePolicy>();
  if (given === undefined) return namespaces;
  if (given === null || typeof given !== 'object') throw invalidOption('namespaces', 'an object', given);
  for (const [ns, cfg] of Object.entries(given)) {
    if (cfg === null || typeof cfg !== 'object') throw invalidOption(`namespaces.${ns}`, 'an object', cfg);
    const ttl = checkTtl(`namespaces.${ns}.ttl`, cfg.ttl);
    for (const flag of ['l1', 'predictive'] as const) {
      if (cfg[flag] !== undefined && typeof cfg[flag] !== 'boolean') throw invalidOption(`namespaces.${ns}.${flag}`, 'a boolean', cfg[flag]);
    }
    namespaces.set(ns, { ttl, l1: cfg.l1 !== false, priority: checkPriority(`namespaces.${ns}.priority`, cfg.priority), predictive: cfg.predictive === true });
  }
  return namespaces;
}

function resolveWarmers(given: CacheOptions['warmers']): Map<string, WarmerPolicy> {
  const warmers = new Map<string, WarmerPolicy>();
  if (given === undefined) return warmers;
  if (given === null || typeof given !== 'object') throw invalidOption('warmers', 'an object of functions', given);
  for (const [name, w] of Object.entries(given)) {
    if (typeof w === 'function') {
      warmers.set(name, { load: w, every: 0, timeout: 30_000 });
      continue;
    }
    const spec = w as ScheduledWarmer | null;
    if (spec === null || typeof spec !== 'object' || typeof spec.load !== 'function') throw invalidOption(`warmers.${name}`, 'a function or { load, every?, timeout? }', w);
    const every = bounded(`warmers.${name}.every`, spec.every, 0, MIN_WARM_EVERY, 2 ** 31 - 1);
    const timeout = bounded(`warmers.${name}.timeout`, spec.timeout, 30_000, 1, 2 ** 31 - 1);
    warmers.set(name, { load: spec.load, every, timeout });
  }
  return warmers;
}

function resolvePredictive(p: PredictiveOptions | undefined): Required<PredictiveOptions> {
  if (p !== undefined && (p === null || typeof p !== 'object')) throw invalidOption('predictive', 'an object', p);
  return {
    window: bounded('predictive.window', p?.window, 1000, 1, 600_000),
    maxKeys: Math.floor(bounded('predictive.maxKeys', p?.maxKeys, 1000, 1, 1_000_000)),
    maxInFlight: Math.floor(bounded('predictive.maxInFlight', p?.maxInFlight, 4, 1, 1000)),
    maxShare: bounded('predictive.maxShare', p?.maxShare, 0.5, 0, 1),
    minCount: Math.floor(bounded('predictive.minCount', p?.minCount, 4, 1, 1e6)),
    minConfidence: bounded('predictive.minConfidence', p?.minConfidence, 0.6, 0, 1),
  };
}

export function namespaceOf(key: string): string {
  const i = key.indexOf(':');
  return i < 0 ? '' : key.slice(0, i);
}

export function checkKey(key: unknown): RouteLensError | undefined {
  if (typeof key !== 'string' || key.length === 0) return new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', 'a cache key must be a non-empty string');
  if (key.length > MAX_KEY_LENGTH) {
    return new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `cache key is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH} (hash long keys): ${truncate(key, 64, '')}…`);
  }
  return undefined;
}

export function checkTags(tags: unknown): string[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags) || tags.length > MAX_TAGS || tags.some((t) => typeof t !== 'string' || t.length === 0 || t.length > MAX_TAG_LENGTH)) {
    throw invalidOption('tags', `an array of at most ${MAX_TAGS} non-empty strings of at most ${MAX_TAG_LENGTH} characters`, tags);
  }
  return tags.length === 0 ? undefined : [...new Set(tags as string[])];
}

export function checkTtl(name: string, v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw invalidOption(name, 'a finite number >= 0', v);
  return v;
}

export function closedError(): RouteLensError {
  return new RouteLensError('ROUTELENS_ERR_CLOSED', 'the cache is closed');
}
