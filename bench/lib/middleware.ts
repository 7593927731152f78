/**
 * The middleware a variant mounts before the app's routes (bench/lib/variants.ts names it):
 * the agent's, the anchors a user would otherwise pick (express-status-monitor,
 * express-prom-bundle, express-rate-limit over its own store or rate-limiter-flexible's
 * RateLimiterRedis), the floor of per-route timing (no middleware: two channel subscribers), or
 * nothing. Runs in the server child.
 */
import type { Express, RequestHandler } from 'express';
import { assertNever } from '../../protocol/messages';
import { type BenchAgent, MEMORY_LIMITER, REDIS_LIMITER, memoryLimiter, redisLimiter } from './adapter';
import type { MiddlewareKind } from './variants';

/** Never reached: every limiter in the bench allows every request. */
const NEVER = 1_000_000_000;

/**
 * The anchors send the headers agent.rateLimit() sends by default (draft-8 `RateLimit` and
 * `RateLimit-Policy` named after the limiter, no legacy `X-RateLimit-*`), so both do the same
 * work per request; express-rate-limit's own defaults (legacy headers only, with a `Date`)
 * would compare different header work.
 */
function sameHeaders(identifier: string) {
  return { standardHeaders: 'draft-8', legacyHeaders: false, identifier } as const;
}

export async function mountMiddleware(app: Express, kind: MiddlewareKind, agent: BenchAgent | undefined, redisUrl: string | undefined): Promise<void> {
  switch (kind) {
    case 'none':
      return;
    case 'noop':
      app.use((_req, _res, next) => next());
      return;
    case 'agent':
      app.use(agent!.middleware());
      return;
    case 'status-monitor': {
      const monitor = require('express-status-monitor') as () => RequestHandler;
      app.use(monitor());
      return;
    }
    case 'prom-bundle': {
      const bundle = require('express-prom-bundle') as (opts: Record<string, unknown>) => RequestHandler;
      app.use(bundle({ includeMethod: true, includePath: true }));
      return;
    }
    case 'rl-memory':
      app.use(memoryLimiter(agent!));
      return;
    case 'rl-redis':
      app.use(redisLimiter(agent!));
      return;
    case 'erl-memory': {
      const { rateLimit } = require('express-rate-limit') as typeof import('express-rate-limit');
      app.use(rateLimit({ windowMs: 60_000, limit: NEVER, ...sameHeaders(MEMORY_LIMITER) }));
      return;
    }
    case 'erl-redis':
      app.use(await redisAnchor(redisUrl));
      return;
    case 'floor':
      timeAtTheFloor();
      return;
    default:
      assertNever(kind, 'middleware kind');
  }
}

/**
 * The least a per-route timer can do on Node's http server: the request's start from the
 * `http.server.request.start` channel into a Map, and at `http.server.response.finish` its
 * duration into a ring and a count under Express's own `req.route.path`. What the agent's request
 * path is compared with (docs/performance.md, "Current figures").
 */
function timeAtTheFloor(): void {
  const { subscribe } = require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');
  const starts = new Map<object, number>();
  const durations = new Float64Array(4096);
  const counts = new Map<string, number>();
  let n = 0;
  subscribe('http.server.request.start', (message) => {
    starts.set((message as { request: object }).request, performance.now());
  });
  subscribe('http.server.response.finish', (message) => {
    const req = (message as { request: { route?: { path?: unknown } } }).request;
    const t0 = starts.get(req);
    if (t0 === undefined) return;
    starts.delete(req);
    durations[n++ & (durations.length - 1)] = performance.now() - t0;
    const path = typeof req.route?.path === 'string' ? req.route.path : '';
    counts.set(path, (counts.get(path) ?? 0) + 1);
  });
}

/** express-rate-limit over rate-limiter-flexible's RateLimiterRedis, the way a user wires them: a small Store adapter. */
async function redisAnchor(redisUrl: string | undefined): Promise<RequestHandler> {
  if (!redisUrl) throw new Error('erl-redis needs BENCH_REDIS_URL');
  const { rateLimit } = require('express-rate-limit') as typeof import('express-rate-limit');
  const { RateLimiterRedis, RateLimiterRes } = require('rate-limiter-flexible') as typeof import('rate-limiter-flexible');
  const { Redis } = require('ioredis') as typeof import('ioredis');
  const client = new Redis(redisUrl, { enableOfflineQueue: false });
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve);
    client.once('error', reject);
  });
  const limiter = new RateLimiterRedis({ storeClient: client, points: NEVER, duration: 60, keyPrefix: 'bench-anchor' });
  const consumed = (key: string) => limiter.consume(key).catch((r: unknown) => (r instanceof RateLimiterRes ? r : Promise.reject(r)));
  return rateLimit({
    windowMs: 60_000,
    limit: NEVER,
    ...sameHeaders(REDIS_LIMITER),
    store: {
      async increment(key: string) {
        const r = await consumed(key);
        return { totalHits: r.consumedPoints, resetTime: new Date(Date.now() + r.msBeforeNext) };
      },
      async decrement(key: string) {
        await limiter.reward(key);
      },
      async resetKey(key: string) {
        await limiter.delete(key);
      },
    },
  });
}
