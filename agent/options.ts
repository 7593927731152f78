/**
 * createAgent's options, resolved once: each option has one check (agent/check.ts
 * holds the ones shared with the cache and the limiters), its environment
 * variable goes through the same check, and everything downstream reads the
 * resolved object, never process.env.
 *
 * Two kinds of mistake, two answers:
 * - an option passed in code that is wrong or unknown throws
 *   ROUTELENS_ERR_INVALID_OPTION naming it (and the nearest valid name);
 * - an environment variable with a value the agent cannot use is ignored with
 *   a start-up warning (ROUTELENS_WARN_INVALID_ENV), and the option or the
 *   default applies: a deployment's environment never stops the app starting.
 * Environment variables win over options.
 */
import { randomBytes } from 'node:crypto';
import type { RedisClient } from './api-types';
import { packageName } from './namespace';
import type { Thresholds, ThresholdsPatch } from '../protocol';
import { DEFAULT_THRESHOLDS, thresholdsFromEnv } from './alerts/thresholds';
import * as check from './check';
import { type AgentWarningCode, RouteLensError, describe, invalidOption, unknownOption } from './errors';
import { type Logger, consoleLogger } from './log';
import { truncate } from './text';
import type { SpanOptions } from './spans/store';
import { type ResolvedSlowLog, type SlowLogOptions, resolveSlowLog } from './slowlog-file';
import { type HistoryOptions, type ResolvedHistory, resolveHistory } from './history/options';
import { validation } from './validate';

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
  thresholds?: ThresholdsPatch;
  /** Redis for the cache's L2 and the rate limiters' shared store: a URL or an ioredis client. ROUTELENS_REDIS_URL (not REDIS_URL). */
  redis?: string | RedisClient;
  /** Cache options (see docs/cache.md); false = no cache. */
  cache?: Record<string, unknown> | false;
  /** Express module(s) to instrument explicitly, when the agent cannot find the app's own `express`. */
  express?: unknown;
  /**
   * Where the agent may write: a Logger, true for the console, false/absent for nothing
   * (ROUTELENS_DEBUG=1 = console). Start-up warnings about the configuration go to stderr without one.
   */
  logger?: Logger | boolean;
  /** Alert evaluation interval (ms). Default 1000. */
  evaluateMs?: number;
  /** How often process figures (CPU, memory, event-loop delay and utilisation) are sampled (ms). Default 1000. */
  systemMs?: number;
  /** The slow-request log on disk (NDJSON, rotated by size); false/absent = none. ROUTELENS_SLOW_LOG_DIR. See docs/metrics.md. */
  slowLog?: SlowLogOptions | false;
  /**
   * Per-route figures per minute kept on disk across restarts (default on, in `.routelens/history/`);
   * false = none. ROUTELENS_HISTORY=0, ROUTELENS_HISTORY_DIR. See docs/history.md.
   */
  history?: HistoryOptions | false;
  /**
   * Spans (what each request spent its time on; see docs/spans.md): false = none; true or an
   * object = recorded for a sample of each route's requests (`sample` per second after the first
   * 20; 'all' = every request), at most `maxSpansPerRequest` each. Default on, sampled.
   * ROUTELENS_SPANS=0 (off), 1 or all (every request), sampled.
   */
  spans?: boolean | { sample?: number | 'all'; maxSpansPerRequest?: number };
  /** false = no `X-Request-Id` response header (the request id is still kept). Default true. */
  requestIdHeader?: boolean;
  /**
   * The figures, history, slow log, alerts and the local server run in a worker thread the agent
   * starts, so the app's main thread only records each request (docs/performance.md). Default
   * true; false (or ROUTELENS_WORKER=0) keeps them in the main thread.
   */
  worker?: boolean;
}

/** A start-up warning found while resolving (a bad environment value); the agent writes it once. */
export interface StartupWarning {
  code: AgentWarningCode;
  message: string;
  /** Written once per this key (the variable's name). */
  once: string;
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
  /** Defaults, then the environment's, then the options'. */
  thresholds: Thresholds;
  redis: string | RedisClient | undefined;
  cache: Record<string, unknown> | false;
  express: unknown;
  /** The user's logger (or the console); undefined when none was asked for. */
  logger: Logger | undefined;
  evaluateMs: number;
  systemMs: number;
  warnings: StartupWarning[];
  slowLog: ResolvedSlowLog | false;
  history: ResolvedHistory | false;
  spans: SpanOptions | false;
  requestIdHeader: boolean;
  worker: boolean;
}

/** Every option createAgent knows; anything else is refused, naming the nearest. */
export const AGENT_OPTION_NAMES = [
  'name', 'enabled', 'port', 'host', 'allowNonLoopback', 'token', 'discoveryDir', 'server', 'batchMs', 'heartbeatMs',
  'maxEndpoints', 'thresholds', 'redis', 'cache', 'express', 'logger', 'evaluateMs', 'systemMs', 'slowLog',
  'history',
  'spans', 'requestIdHeader', 'worker',
] as const satisfies ReadonlyArray<keyof AgentOptions>;
// Compile error when an option is added to AgentOptions but not to the list above.
const allNamed: Exclude<keyof AgentOptions, (typeof AGENT_OPTION_NAMES)[number]> extends never ? true : never = true;
void allNamed;

const PORT: check.Range = { min: 0, max: 65535, integer: true };
const TOKEN = { min: 16, max: 1024 };
const INTERVALS = {
  batchMs: { min: 10, max: 60_000 },
  heartbeatMs: { min: 100, max: 600_000 },
  evaluateMs: { min: 50, max: 600_000 },
  systemMs: { min: 100, max: 600_000 },
} as const satisfies Record<string, check.Range>;
const MAX_ENDPOINTS: check.Range = { min: 10, max: 1_000_000, integer: true };
const MAX_NAME = 200;

export function resolveOptions(options: AgentOptions = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ResolvedOptions {
  const o = check.object(options, 'options');
  check.knownFields(o, AGENT_OPTION_NAMES, 'createAgent');
  const warnings: StartupWarning[] = [];
  /** An environment variable's value, or undefined (unset, empty, or unusable: then warned). */
  const fromEnv = <T>(variable: string, read: (raw: string) => T | Unusable, fallback: string): T | undefined => {
    const raw = env[variable];
    if (raw === undefined || raw === '') return undefined;
    const value = read(raw);
    if (!(value instanceof Unusable)) return value;
    const shown = value.secret ? `(${raw.length} characters)` : describe(raw);
    warnings.push({ code: 'ROUTELENS_WARN_INVALID_ENV', once: variable, message: `${variable}=${shown} ignored: it takes ${value.expected}; ${fallback}` });
    return undefined;
  };

  const portOption = check.number(o, 'port', 0, PORT);
  const port = fromEnv('ROUTELENS_PORT', (raw) => readNumber(raw, PORT), `the local server uses port ${portOption}${portOption === 0 ? ' (any free port)' : ''}`) ?? portOption;

  const hostOption = check.string(o, 'host', '127.0.0.1', { min: 1, max: 255 });
  const host = fromEnv('ROUTELENS_HOST', (raw) => (raw.length <= 255 ? raw.trim() : new Unusable('an address of at most 255 characters')), `the local server binds ${hostOption}`) ?? hostOption;

  const tokenOption = o.token === undefined ? undefined : checkToken(o.token);
  const token =
    fromEnv('ROUTELENS_TOKEN', (raw) => (raw.length >= TOKEN.min && raw.length <= TOKEN.max ? raw : new Unusable(`${TOKEN.min} to ${TOKEN.max} characters`, true)), tokenOption ? 'using the token option' : 'using a random token') ??
    tokenOption ??
    randomBytes(32).toString('hex');

  const discoveryOption = checkDiscoveryDir(o.discoveryDir);
  const discoveryDir = fromEnv('ROUTELENS_DISCOVERY_DIR', (raw) => raw, '') ?? discoveryOption;

  const enabledOption = check.boolean(o, 'enabled', true);
  const disabledByEnv = fromEnv('ROUTELENS_DISABLED', readFlag, `measuring is ${enabledOption ? 'on' : 'off'}`);
  const enabled = disabledByEnv === true ? false : enabledOption;

  const nameOption = check.string(o, 'name', '', { min: 1, max: 100_000 });
  const name = truncate(env.ROUTELENS_NAME || nameOption || packageName(cwd), MAX_NAME);

  const redisOption = check.redis(o.redis);
  const redis = fromEnv('ROUTELENS_REDIS_URL', readRedisUrl, redisOption ? 'using the redis option' : 'the cache and rate limits run in memory, without Redis') ?? redisOption;
  if (redis === undefined && env.REDIS_URL) {
    warnings.push({
      code: 'ROUTELENS_WARN_REDIS_URL_IGNORED',
      once: 'REDIS_URL',
      message: 'REDIS_URL is set, but the agent reads ROUTELENS_REDIS_URL (or the redis option), so the app’s own Redis is left alone: the cache and rate limits run in memory. To share that Redis with RouteLens, set ROUTELENS_REDIS_URL',
    });
  }

  const optionThresholds = o.thresholds === undefined ? {} : checkThresholds(o.thresholds);
  const envThresholds = thresholdsFromEnv(env, (variable, value, expected) =>
    warnings.push({ code: 'ROUTELENS_WARN_INVALID_ENV', once: variable, message: `${variable}=${JSON.stringify(value)} ignored: it takes ${expected}; the alert uses the option or the default` }),
  );

  if (o.cache !== undefined && o.cache !== false) check.object(o.cache, 'cache');

  const historyOff = fromEnv('ROUTELENS_HISTORY', readFlag, 'the history follows the history option') === false;
  const historyDir = fromEnv('ROUTELENS_HISTORY_DIR', (raw) => (raw.includes('\0') ? new Unusable('a directory path') : raw), 'the history uses the history option or its default directory');

  return {
    name,
    enabled,
    port,
    host,
    allowNonLoopback: check.boolean(o, 'allowNonLoopback', false),
    token,
    discoveryDir,
    server: check.boolean(o, 'server', true),
    batchMs: check.number(o, 'batchMs', 250, INTERVALS.batchMs),
    heartbeatMs: check.number(o, 'heartbeatMs', 15_000, INTERVALS.heartbeatMs),
    maxEndpoints: check.number(o, 'maxEndpoints', 2000, MAX_ENDPOINTS),
    thresholds: mergeThresholds(mergeThresholds(DEFAULT_THRESHOLDS, optionThresholds), envThresholds),
    redis,
    cache: o.cache === false ? false : ((o.cache as Record<string, unknown> | undefined) ?? {}),
    express: o.express,
    logger: env.ROUTELENS_DEBUG === '1' ? consoleLogger : checkLogger(o.logger),
    evaluateMs: check.number(o, 'evaluateMs', 1000, INTERVALS.evaluateMs),
    systemMs: check.number(o, 'systemMs', 1000, INTERVALS.systemMs),
    warnings,
    slowLog: resolveSlowLog(o.slowLog, env, cwd),
    history: resolveHistory(o.history, { off: historyOff, dir: historyDir }, cwd),
    spans: resolveSpans(o.spans, fromEnv('ROUTELENS_SPANS', readSpans, 'spans use the spans option')),
    requestIdHeader: check.boolean(o, 'requestIdHeader', true),
    worker: fromEnv('ROUTELENS_WORKER', readFlag, 'the worker follows the worker option') ?? check.boolean(o, 'worker', true),
  };
}

const SPAN_SAMPLE: check.Range = { min: 0.001, max: 1_000_000 };
const MAX_SPANS: check.Range = { min: 1, max: 10_000, integer: true };

/** The spans option, with ROUTELENS_SPANS (`0`/`false` off, `1`/`true`/`all` every request, `sampled`) winning. */
function resolveSpans(option: unknown, env: 'off' | 'all' | 'sampled' | undefined): SpanOptions | false {
  if (option !== undefined && typeof option !== 'boolean') check.object(option, 'spans');
  const o = (typeof option === 'object' && option !== null ? option : {}) as Record<string, unknown>;
  if (typeof option === 'object' && option !== null) check.knownFields(o, ['sample', 'maxSpansPerRequest'], 'spans');
  const sample = o.sample === 'all' ? 'all' : check.number(o, 'sample', 2, SPAN_SAMPLE, 'spans.sample');
  const maxSpansPerRequest = check.number(o, 'maxSpansPerRequest', 200, MAX_SPANS, 'spans.maxSpansPerRequest');
  if (env === 'off' || (env === undefined && option === false)) return false;
  return { sample: env === 'all' ? 'all' : env === 'sampled' && sample === 'all' ? 2 : sample, maxSpansPerRequest };
}

function readSpans(raw: string): 'off' | 'all' | 'sampled' | Unusable {
  const v = raw.trim().toLowerCase();
  if (v === '0' || v === 'false' || v === 'off') return 'off';
  if (v === '1' || v === 'true' || v === 'all') return 'all';
  if (v === 'sampled') return 'sampled';
  return new Unusable('0 (off), 1 or all (every request), or sampled');
}

/** Why an environment value cannot be used: what the variable takes. */
class Unusable {
  constructor(
    readonly expected: string,
    /** Never echo the value (a token). */
    readonly secret = false,
  ) {}
}

function readNumber(raw: string, range: check.Range): number | Unusable {
  const n = raw.trim() === '' ? NaN : Number(raw);
  return check.inRange(n, range) ? n : new Unusable(check.rangeText(range));
}

function readFlag(raw: string): boolean | Unusable {
  const v = raw.trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  return new Unusable('1 or true (or 0 or false)');
}

function readRedisUrl(raw: string): string | Unusable {
  return /^rediss?:\/\/./.test(raw) ? raw : new Unusable(`a redis:// or rediss:// URL (for example redis://${raw.includes('://') ? 'localhost:6379' : raw})`);
}

function checkToken(v: unknown): string {
  if (typeof v !== 'string' || v.length < TOKEN.min || v.length > TOKEN.max) {
    throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `option "token" must be a string of ${TOKEN.min} to ${TOKEN.max} characters, got ${typeof v === 'string' ? `${v.length} characters` : typeof v}`);
  }
  return v;
}

function checkDiscoveryDir(v: unknown): string | false | undefined {
  if (v === undefined || v === false || (typeof v === 'string' && v.length > 0 && v.length <= 4096)) return v;
  throw invalidOption('discoveryDir', 'a directory path or false', v);
}

function checkLogger(v: unknown): Logger | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return consoleLogger;
  const logger = v as Partial<Logger> | null;
  if (logger !== null && typeof logger === 'object' && typeof logger.warn === 'function' && typeof logger.error === 'function') return v as Logger;
  throw invalidOption('logger', 'an object with warn() and error() methods, true (the console) or false', v);
}

const THRESHOLD_NAMES = Object.keys(DEFAULT_THRESHOLDS);
const SLOW_NAMES = Object.keys(DEFAULT_THRESHOLDS.slowMs);

/** The thresholds option, with the ranges of the thresholds.set command. */
function checkThresholds(value: unknown): ThresholdsPatch {
  const t = check.object(value, 'thresholds');
  check.knownFields(t, THRESHOLD_NAMES, 'thresholds');
  if (t.slowMs !== undefined) check.knownFields(check.object(t.slowMs, 'thresholds.slowMs'), SLOW_NAMES, 'thresholds.slowMs');
  const parsed = validation().thresholdsPatch.safeParse(t);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = ['thresholds', ...(issue?.path ?? [])].join('.');
  if (issue?.code === 'unrecognized_keys') throw unknownOption(path, issue.keys[0] ?? '', THRESHOLD_NAMES);
  const got = issue?.path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), t);
  return fail(path, issue?.message ?? 'invalid', got);
}

function fail(path: string, why: string, got: unknown): never {
  throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `option "${path}": ${why.charAt(0).toLowerCase()}${why.slice(1)}, got ${describe(got)}`);
}

function mergeThresholds(base: Thresholds, patch: ThresholdsPatch): Thresholds {
  return { ...base, ...patch, slowMs: { ...base.slowMs, ...patch.slowMs } };
}

