/**
 * createAgent's options, resolved once: defaults, then environment overrides,
 * then validation with coded errors. Everything downstream reads the resolved
 * object and never looks at process.env again.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { RedisClient } from './api-types';
import type { Thresholds } from '../protocol';
import { invalidOption } from './errors';
import { type Logger, consoleLogger, silentLogger } from './log';
import { type ResolvedSlowLog, type SlowLogOptions, resolveSlowLog } from './slowlog-file';

export interface AgentOptions {
  /** Shown in the editor. Default: ROUTELENS_NAME, else the name in ./package.json, else the folder name. */
  name?: string;
  /** false (or ROUTELENS_DISABLED=1) turns measuring and the local server off; cache and rate limits keep working. */
  enabled?: boolean;
  /** Port of the local server; 0 = any free port (default). ROUTELENS_PORT. */
  port?: number;
  /** Address of the local server; loopback only unless `allowNonLoopback`. ROUTELENS_HOST. */
  host?: string;
  allowNonLoopback?: boolean;
  /** Token clients must present. Default: 32 random bytes, hex. ROUTELENS_TOKEN. */
  token?: string;
  /** Where the discovery file goes; false = none. ROUTELENS_DISCOVERY_DIR. */
  discoveryDir?: string | false;
  /** false = no local server (measure only; read with agent.snapshot()). */
  server?: boolean;
  /** How often deltas are sent (ms). Default 250. */
  batchMs?: number;
  /** WebSocket ping interval (ms). Default 15000. */
  heartbeatMs?: number;
  /** Most endpoints tracked; the rest fold into one overflow bucket. Default 2000. */
  maxEndpoints?: number;
  /** Alert thresholds (also ROUTELENS_P95_MS, ROUTELENS_ERROR_RATE, …, and at run time). */
  thresholds?: Partial<Thresholds>;
  /** Redis for the cache's L2 and the rate limiters' shared store: a URL or an ioredis client. REDIS_URL. */
  redis?: string | RedisClient;
  /** Cache options (see docs/cache.md); false = no cache. */
  cache?: Record<string, unknown> | false;
  /** Express module(s) to instrument explicitly, when the agent cannot find the app's own `express`. */
  express?: unknown;
  /** Where the agent may write: a Logger, true for the console, false/absent for nothing (ROUTELENS_DEBUG=1 = console). */
  logger?: Logger | boolean;
  /** Alert evaluation interval (ms). Default 1000. */
  evaluateMs?: number;
  /** How often process figures (CPU, memory, event-loop delay and utilisation) are sampled (ms). Default 1000. */
  systemMs?: number;
  /** The slow-request log on disk (NDJSON, rotated by size); false/absent = none. ROUTELENS_SLOW_LOG_DIR. See docs/metrics.md. */
  slowLog?: SlowLogOptions | false;
}

export interface ResolvedOptions {
  name: string;
  enabled: boolean;
  port: number;
  host: string;
  allowNonLoopback: boolean;
  token: string;
  discoveryDir: string | false | undefined;
  server: boolean;
  batchMs: number;
  heartbeatMs: number;
  maxEndpoints: number;
  thresholds: Partial<Thresholds>;
  redis: string | RedisClient | undefined;
  cache: Record<string, unknown> | false;
  express: unknown;
  logger: Logger;
  evaluateMs: number;
  systemMs: number;
  slowLog: ResolvedSlowLog | false;
}

const has = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

export function resolveOptions(options: AgentOptions = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ResolvedOptions {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object', options);
  const o = options;

  const envPort = env.ROUTELENS_PORT !== undefined && env.ROUTELENS_PORT !== '' ? Number(env.ROUTELENS_PORT) : undefined;
  if (envPort !== undefined && !isPort(envPort)) throw invalidOption('ROUTELENS_PORT', 'a port number 0-65535', env.ROUTELENS_PORT);
  const port = envPort ?? o.port ?? 0;
  if (!isPort(port)) throw invalidOption('port', 'a port number 0-65535', port);

  const host = env.ROUTELENS_HOST || o.host || '127.0.0.1';
  if (typeof host !== 'string') throw invalidOption('host', 'a string', host);

  const token = env.ROUTELENS_TOKEN || o.token || randomBytes(32).toString('hex');
  if (typeof token !== 'string' || token.length < 16) throw invalidOption('token', 'a string of at least 16 characters', '(hidden)');

  const discoveryDir = env.ROUTELENS_DISCOVERY_DIR || (has(o, 'discoveryDir') ? o.discoveryDir : undefined);
  if (discoveryDir !== undefined && discoveryDir !== false && typeof discoveryDir !== 'string') throw invalidOption('discoveryDir', 'a path or false', discoveryDir);

  const disabledByEnv = env.ROUTELENS_DISABLED === '1' || env.ROUTELENS_DISABLED === 'true';
  const enabled = disabledByEnv ? false : (o.enabled ?? true);

  const positive = (name: keyof AgentOptions, fallback: number, min = 1, max = 86_400_000) => {
    const v = o[name] ?? fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw invalidOption(name, `a number from ${min} to ${max}`, v);
    return v;
  };

  const redis = o.redis ?? (env.REDIS_URL || undefined);
  if (redis !== undefined && typeof redis !== 'string' && (typeof redis !== 'object' || redis === null)) throw invalidOption('redis', 'a redis:// URL or an ioredis client', redis);

  let logger: Logger = silentLogger;
  if (o.logger === true || env.ROUTELENS_DEBUG === '1') logger = consoleLogger;
  else if (o.logger && typeof o.logger === 'object') {
    if (typeof o.logger.warn !== 'function' || typeof o.logger.error !== 'function') throw invalidOption('logger', 'an object with warn() and error()', o.logger);
    logger = o.logger;
  }

  if (o.cache !== undefined && o.cache !== false && (typeof o.cache !== 'object' || o.cache === null)) throw invalidOption('cache', 'an options object or false', o.cache);
  if (o.thresholds !== undefined && (typeof o.thresholds !== 'object' || o.thresholds === null)) throw invalidOption('thresholds', 'an object', o.thresholds);

  return {
    name: (env.ROUTELENS_NAME || o.name || appName(cwd)).slice(0, 200),
    enabled,
    port,
    host,
    allowNonLoopback: o.allowNonLoopback === true,
    token,
    discoveryDir,
    server: o.server ?? true,
    batchMs: positive('batchMs', 250, 10, 60_000),
    heartbeatMs: positive('heartbeatMs', 15_000, 100, 600_000),
    maxEndpoints: positive('maxEndpoints', 2000, 10, 1_000_000),
    thresholds: o.thresholds ?? {},
    redis,
    cache: o.cache ?? {},
    express: o.express,
    logger,
    evaluateMs: positive('evaluateMs', 1000, 50, 600_000),
    systemMs: positive('systemMs', 1000, 100, 600_000),
    slowLog: resolveSlowLog(o.slowLog, env, cwd),
  };
}

function isPort(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 65535;
}

function appName(cwd: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { name?: unknown };
    if (typeof pkg.name === 'string' && pkg.name) return pkg.name;
  } catch {
    /* no package.json: fall back to the folder */
  }
  return basename(cwd) || 'app';
}
