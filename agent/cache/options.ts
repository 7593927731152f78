/**
 * The cache's options, resolved and validated once in `createCache`, and the
 * argument checks every call shares (keys, tags, ttls). Bad input throws
 * `ROUTELENS_ERR_INVALID_OPTION`.
 */
import { randomUUID } from 'node:crypto';
import { invalidOption, RouteLensError } from '../errors';
import * as check from '../check';
import { truncate } from '../text';
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

const CACHE_OPTION_NAMES = [
  'redis', 'prefix', 'maxEntries', 'maxBytes', 'maxEntryBytes', 'ttl', 'namespaces', 'l1Ttl', 'timeout', 'grace',
  'compressAbove', 'warmers', 'warmOnStart', 'channel', 'instanceId', 'breaker', 'scanBudget', 'maxEvents',
] as const satisfies ReadonlyArray<keyof CacheOptions>;
const allNamed: Exclude<keyof CacheOptions, (typeof CACHE_OPTION_NAMES)[number]> extends never ? true : never = true;
void allNamed;

/** The cache's options, each checked once (agent/check.ts); `cache.` names them inside createAgent's options. */
export function resolveOptions(options: CacheOptions): Resolved {
  const o = check.object(options, 'cache options');
  check.knownFields(o, CACHE_OPTION_NAMES, 'cache');
  check.redis(o.redis, 'cache.redis');
  const ms = (name: keyof CacheOptions, def: number, min = 0) => check.number(o, name, def, { min }, `cache.${name}`);
  const prefix = check.string(o, 'prefix', 'routelens:', { min: 0, max: 256 }, 'cache.prefix');
  const namespaces = new Map<string, { ttl?: number }>();
  if (o.namespaces !== undefined) {
    for (const [ns, cfg] of Object.entries(check.object(o.namespaces, 'cache.namespaces'))) {
      const c = check.object(cfg, `cache.namespaces.${ns}`);
      namespaces.set(ns, { ttl: c.ttl === undefined ? undefined : check.number(c, 'ttl', 0, { min: 0 }, `cache.namespaces.${ns}.ttl`) });
    }
  }
  const warmers = new Map<string, Warmer>();
  if (o.warmers !== undefined) {
    const given = check.object(o.warmers, 'cache.warmers');
    for (const name of Object.keys(given)) {
      const warmer = check.fn<Warmer>(given, name, `cache.warmers.${name}`);
      if (warmer) warmers.set(name, warmer);
    }
  }
  const b = check.object(o.breaker ?? {}, 'cache.breaker');
  const maxBytes = ms('maxBytes', 50 * 1024 * 1024, 1);
  return {
    prefix,
    maxEntries: Math.floor(ms('maxEntries', 10_000, 1)),
    maxBytes,
    maxEntryBytes: Math.min(ms('maxEntryBytes', 1024 * 1024, 1), maxBytes),
    ttl: ms('ttl', 0),
    l1Ttl: ms('l1Ttl', 60_000),
    timeout: ms('timeout', 50, 1),
    grace: ms('grace', 0),
    compressAbove: ms('compressAbove', Infinity),
    warmOnStart: check.boolean(o, 'warmOnStart', false, 'cache.warmOnStart'),
    channel: check.string(o, 'channel', `${prefix}invalidations`, { min: 1, max: 256 }, 'cache.channel'),
    instanceId: check.string(o, 'instanceId', randomUUID(), { min: 1, max: 256 }, 'cache.instanceId'),
    scanBudget: ms('scanBudget', 2000, 1),
    maxEvents: Math.floor(ms('maxEvents', 500, 0)),
    namespaces,
    warmers,
    breakerThreshold: check.number(b, 'threshold', 3, { min: 1, integer: true }, 'cache.breaker.threshold'),
    breakerCooldown: check.number(b, 'cooldown', 1000, { min: 0 }, 'cache.breaker.cooldown'),
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
