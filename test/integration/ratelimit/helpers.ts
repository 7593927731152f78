/** Shared helpers for the rate-limit integration tests: real servers on 127.0.0.1:0, real HTTP. */
import type { Express } from 'express';
import { Redis } from 'ioredis';
import type { RateLimits } from '../../../agent/ratelimit';
import { type TestRedis, startRedis } from '../../support/redis';
import { Diagnostics } from '../../../agent/log';
import { listen } from '../express/support';

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** A real server on 127.0.0.1:0 (the Express tests' listen()), addressed by URL. */
export async function serve(app: unknown): Promise<Served> {
  const running = await listen(app as Express);
  return { url: `http://127.0.0.1:${running.port}`, close: running.close };
}

export interface Hit {
  status: number;
  headers: Headers;
  body: string;
  ms: number;
}

export async function hit(url: string, headers: Record<string, string> = {}): Promise<Hit> {
  const t0 = performance.now();
  const res = await fetch(url, { headers });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, ms: performance.now() - t0 };
}

export async function hits(url: string, n: number, headers: Record<string, string> = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await hit(url, headers)).status);
  return out;
}

export function recordingDiag(): { diag: Diagnostics; warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  const diag = new Diagnostics({ warn: (m) => warnings.push(m), error: (m) => errors.push(m) });
  return { diag, warnings, errors };
}

export function fakeClock(start = 1_700_000_000_000): { now: number; clock: () => number } {
  const c = { now: start, clock: () => c.now };
  return c;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * A suite's private redis-server and an admin client to look inside it, and
 * what each test started (apps served, rate limit registries), closed after
 * the test; a frozen Redis is thawed first.
 */
export interface RedisSuite {
  readonly redis: TestRedis;
  readonly admin: Redis;
  readonly served: Served[];
  readonly limits: RateLimits[];
}

export function redisSuite(): RedisSuite {
  let redis: TestRedis | undefined;
  let admin: Redis | undefined;
  const suite: RedisSuite = {
    get redis() {
      if (!redis) throw new Error('redisSuite: used before its before() hook ran');
      return redis;
    },
    get admin() {
      if (!admin) throw new Error('redisSuite: used before its before() hook ran');
      return admin;
    },
    served: [],
    limits: [],
  };
  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url, { maxRetriesPerRequest: 2 });
    admin.on('error', () => {});
  });
  after(async () => {
    admin?.disconnect();
    await redis?.stop();
  });
  afterEach(async () => {
    redis?.thaw();
    await Promise.all(suite.served.splice(0).map((s) => s.close()));
    await Promise.all(suite.limits.splice(0).map((l) => l.close()));
  });
  return suite;
}
