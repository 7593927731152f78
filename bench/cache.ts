/**
 * Section 2: the agent cache's hit paths against the raw libraries under
 * them, in this process: L1 hit vs lru-cache `get` on the same keys, L2 hit
 * vs an ioredis GET on the same Redis with a value of the same size.
 * Batches of each case alternate; the figure is the median ns/op over rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';
import { connectRedis } from '../agent/redis';
import { type AgentModule, type BenchCache, CACHE_OPTIONS, benchCache, cacheRedisReady } from './lib/adapter';
import { median } from './lib/stats';

export interface CacheSettings {
  rounds: number;
  /** Operations per in-memory batch. */
  memoryBatch: number;
  /** Operations per Redis batch (each one is a loopback round trip). */
  redisBatch: number;
  redisUrl: string;
  log: (line: string) => void;
}

export interface CaseResult {
  name: string;
  nsPerOp: number;
  rounds: number[];
}

export interface CacheResults {
  keys: number;
  valueBytes: number;
  cases: Record<string, CaseResult>;
  notes: string[];
}

const KEYS = 1000;
const keyOf = (i: number) => `user:${i}`;
const l2Key = (i: number) => `l2user:${i}`;
const valueOf = (i: number) => ({ id: i, name: `user ${i}`, roles: ['reader', 'writer'], bio: 'x'.repeat(120) });

type Batch = (n: number) => Promise<void> | void;

const isThenable = (v: unknown): v is PromiseLike<unknown> => typeof (v as { then?: unknown } | null)?.then === 'function';

/** Reads `n` keys round-robin from a cache whose get may be sync or async. */
function readsOf(cache: BenchCache, key: (i: number) => string, expectHit: () => void): Batch {
  let i = 0;
  return async (n) => {
    for (let k = 0; k < n; k++) {
      let v = cache.get(key(i++ % KEYS));
      if (isThenable(v)) v = await v;
      if (v === undefined) expectHit();
    }
  };
}

async function timeBatch(fn: Batch, n: number): Promise<number> {
  const t0 = performance.now();
  await fn(n);
  return ((performance.now() - t0) * 1e6) / n;
}

/** Warm-up, then `rounds` rounds in which every case runs one batch, in rotating order. */
async function interleave(cases: Array<{ name: string; fn: Batch; n: number }>, rounds: number): Promise<Record<string, CaseResult>> {
  for (const c of cases) {
    await timeBatch(c.fn, c.n);
    await timeBatch(c.fn, c.n);
  }
  const out: Record<string, CaseResult> = {};
  for (const c of cases) out[c.name] = { name: c.name, nsPerOp: 0, rounds: [] };
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < cases.length; j++) {
      const c = cases[(j + r) % cases.length]!;
      out[c.name]!.rounds.push(await timeBatch(c.fn, c.n));
    }
  }
  for (const c of Object.values(out)) c.nsPerOp = median(c.rounds);
  return out;
}

export async function runCacheBench(s: CacheSettings, agentMod: AgentModule | undefined): Promise<CacheResults> {
  const notes: string[] = [];
  const valueBytes = JSON.stringify(valueOf(0)).length;

  // ---- raw baselines
  const lru = new LRUCache<string, object>({ max: 10_000 });
  for (let i = 0; i < KEYS; i++) lru.set(keyOf(i), valueOf(i));
  const redis = connectRedis(s.redisUrl, { commandTimeout: 2000 });
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  const rawPrefix = 'bench:raw:';
  for (let i = 0; i < KEYS; i++) await redis.set(rawPrefix + keyOf(i), JSON.stringify(valueOf(i)));

  let missing = 0;
  const miss = () => {
    missing++;
  };
  const rawLruSync: Batch = (() => {
    let i = 0;
    return (n: number) => {
      for (let k = 0; k < n; k++) if (lru.get(keyOf(i++ % KEYS)) === undefined) miss();
    };
  })();
  const rawLruAwait: Batch = (() => {
    let i = 0;
    return async (n: number) => {
      for (let k = 0; k < n; k++) if ((await lru.get(keyOf(i++ % KEYS))) === undefined) miss();
    };
  })();
  const rawRedisGet: Batch = (() => {
    let i = 0;
    return async (n: number) => {
      for (let k = 0; k < n; k++) {
        const raw = await redis.get(rawPrefix + keyOf(i++ % KEYS));
        if (raw === null) miss();
        else JSON.parse(raw); // the agent hands back a value, so the baseline decodes too
      }
    };
  })();

  const memCases: Array<{ name: string; fn: Batch; n: number }> = [
    { name: 'lru.get', fn: rawLruSync, n: s.memoryBatch },
    { name: 'await lru.get', fn: rawLruAwait, n: s.memoryBatch },
  ];
  const redisCases: Array<{ name: string; fn: Batch; n: number }> = [{ name: 'ioredis GET + JSON.parse', fn: rawRedisGet, n: s.redisBatch }];

  // ---- the agent's cache
  const closers: Array<() => Promise<void>> = [];
  const dirs: string[] = [];
  let l2Cache: BenchCache | undefined;
  try {
    const made = async (options: Record<string, unknown>, key: (i: number) => string) => {
      const dir = mkdtempSync(join(tmpdir(), 'routelens-bench-'));
      dirs.push(dir);
      const c = benchCache(agentMod, s.redisUrl, options, dir);
      if (!c) return undefined;
      closers.push(c.close);
      if (!(await cacheRedisReady(c.cache))) notes.push('the cache did not report Redis ready within 5 s');
      for (let i = 0; i < KEYS; i++) await c.cache.set(key(i), valueOf(i));
      return c;
    };
    const l1 = await made(CACHE_OPTIONS.l1, keyOf);
    if (l1) {
      notes.push(`agent cache made with ${l1.via}`);
      memCases.push({ name: 'agent L1 hit', fn: readsOf(l1.cache, keyOf, miss), n: s.memoryBatch });
      const l2 = await made(CACHE_OPTIONS.l2Only, l2Key);
      l2Cache = l2!.cache;
      redisCases.push({ name: 'agent L2 hit', fn: readsOf(l2Cache, l2Key, miss), n: s.redisBatch });
    } else notes.push('agent cache not available: only the raw baselines were measured');

    s.log(`  in-memory cases: ${memCases.map((c) => c.name).join(', ')}`);
    const mem = await interleave(memCases, s.rounds);
    s.log(`  Redis cases: ${redisCases.map((c) => c.name).join(', ')}`);
    const red = await interleave(redisCases, s.rounds);
    const tiers = l2Cache?.stats?.();
    if (tiers) notes.push(`L2 case tier check: ${tiers.l2.hits} L2 hits, ${tiers.l1.hits} L1 hits (expected all L2)`);
    if (missing > 0) notes.push(`${missing} reads missed (expected all hits): the figures are suspect`);
    return { keys: KEYS, valueBytes, cases: { ...mem, ...red }, notes };
  } finally {
    for (const close of closers) await close();
    await redis.flushall().catch(() => undefined);
    redis.disconnect();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
