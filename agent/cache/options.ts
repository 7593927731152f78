/**
 * The cache's options, resolved and validated once in `createCache`, and the
 * argument checks every call shares (keys, tags, ttls). Bad input throws
 * `ROUTELENS_ERR_INVALID_OPTION`.
 */
import { randomUUID } from 'node:crypto';
import { invalidOption, RouteLensError } from '../errors';
import { appNamespace, defaultAppName } from '../namespace';
import { asIoredis } from '../redis';
import { truncate } from './json';
import type { CacheOptions, Warmer } from './types';

/** Longest key accepted (the protocol's limit for `cache.inspect` and `cache.invalidate`). */
export const MAX_KEY_LENGTH = 4096;
const MAX_TAGS = 32;
export const MAX_TAG_LENGTH = 512;

export type Resolved = Required<Omit<CacheOptions, 'redis' | 'namespaces' | 'warmers' | 'breaker' | 'compressAbove'>> & {
  compressAbove: number;
  namespaces: Map<string, { ttl?: number }>;
  warmers: Map<string, Warmer>;
  breakerThreshold: number;
  breakerCooldown: number;
};

export function resolveOptions(o: CacheOptions): Resolved {
  if (o === null || typeof o !== 'object') throw invalidOption('options', 'an object', o);
  const nonNeg = (name: keyof CacheOptions, def: number, min = 0): number => {
    const v = o[name];
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw invalidOption(name, `a finite number >= ${min}`, v);
    return v;
  };
  if (o.redis !== undefined && typeof o.redis !== 'string' && (o.redis === null || typeof o.redis !== 'object' || typeof o.redis.getBuffer !== 'function')) {
    throw invalidOption('redis', 'a Redis URL or an ioredis client', o.redis);
  }
  if (typeof o.redis === 'string' && !/^rediss?:\/\//.test(o.redis)) throw invalidOption('redis', 'a redis:// or rediss:// URL', o.redis);
  const keyPrefix = typeof o.redis === 'object' ? asIoredis(o.redis).options?.keyPrefix : undefined;
  if (keyPrefix) throw invalidOption('redis', 'an ioredis client without keyPrefix (the cache prefixes keys itself)', keyPrefix);
  // The agent passes its app's namespace; a standalone cache takes the one the agent would by default.
  const prefix = o.prefix ?? appNamespace(defaultAppName());
  if (typeof prefix !== 'string' || prefix.length > 256) throw invalidOption('prefix', 'a string of at most 256 characters', prefix);
  const namespaces = new Map<string, { ttl?: number }>();
  if (o.namespaces !== undefined) {
    if (o.namespaces === null || typeof o.namespaces !== 'object') throw invalidOption('namespaces', 'an object', o.namespaces);
    for (const [ns, cfg] of Object.entries(o.namespaces)) {
      if (cfg === null || typeof cfg !== 'object') throw invalidOption(`namespaces.${ns}`, 'an object', cfg);
      if (cfg.ttl !== undefined && (typeof cfg.ttl !== 'number' || !Number.isFinite(cfg.ttl) || cfg.ttl < 0)) throw invalidOption(`namespaces.${ns}.ttl`, 'a finite number >= 0', cfg.ttl);
      namespaces.set(ns, { ttl: cfg.ttl });
    }
  }
  const warmers = new Map<string, Warmer>();
  if (o.warmers !== undefined) {
    if (o.warmers === null || typeof o.warmers !== 'object') throw invalidOption('warmers', 'an object of functions', o.warmers);
    for (const [name, fn] of Object.entries(o.warmers)) {
      if (typeof fn !== 'function') throw invalidOption(`warmers.${name}`, 'a function', fn);
      warmers.set(name, fn);
    }
  }
  for (const name of ['warmOnStart'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') throw invalidOption(name, 'a boolean', o[name]);
  }
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
    channel: o.channel ?? `${prefix}invalidations`,
    instanceId: o.instanceId ?? randomUUID(),
    scanBudget: nonNeg('scanBudget', 2000, 1),
    maxEvents: Math.floor(nonNeg('maxEvents', 500, 0)),
    namespaces,
    warmers,
    breakerThreshold,
    breakerCooldown,
  };
}

export function namespaceOf(key: string): string {
  const i = key.indexOf(':');
  return i < 0 ? '' : key.slice(0, i);
}

export function checkKey(key: unknown): RouteLensError | undefined {
  if (typeof key !== 'string' || key.length === 0) return new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', 'a cache key must be a non-empty string');
  if (key.length > MAX_KEY_LENGTH) {
    return new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `cache key is ${key.length} characters long; the limit is ${MAX_KEY_LENGTH} (hash long keys): ${truncate(key, 64).text}…`);
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
