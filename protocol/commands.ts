/**
 * Commands a client sends to the agent, and what each answers. One table:
 * `COMMANDS` holds every command's argument schema; `CommandResults` its
 * result type. The agent validates arguments here, once, at the boundary.
 */
import { z } from 'zod';
import type {
  Alert,
  CacheKeyInfo,
  CacheStats,
  CacheTier,
  RateLimitStats,
  Snapshot,
  Thresholds,
} from './types';

const none = z.object({}).strict();
const endpointId = z.string().min(1).max(2048);
const cacheKey = z.string().min(1).max(4096);
/** Glob patterns are checked again, more strictly, by the cache's validator. */
const pattern = z.string().min(1).max(512);

const slowMs = z
  .object({ info: z.number().positive(), warning: z.number().positive(), critical: z.number().positive() })
  .partial()
  .strict();

export const thresholdsPatch = z
  .object({
    p95Ms: z.number().positive().max(3_600_000),
    errorRate: z.number().gt(0).max(1),
    heapPercent: z.number().gt(0).max(1),
    eventLoopDelayMs: z.number().positive().max(3_600_000),
    cacheHitRate: z.number().min(0).max(1),
    rateLimitedShare: z.number().gt(0).max(1),
    anomalyFactor: z.number().gt(1).max(1000),
    slowMs,
  })
  .partial()
  .strict();

export const COMMANDS = {
  /** A full snapshot (clients also receive one on connect and after a resync). */
  snapshot: none,
  /** Reset all metrics, or one endpoint's. */
  reset: z.object({ endpoint: endpointId.optional() }).strict(),
  'thresholds.get': none,
  'thresholds.set': z.object({ thresholds: thresholdsPatch }).strict(),
  'alerts.list': none,
  'alerts.resolve': z.object({ id: z.string().min(1).max(512) }).strict(),
  'cache.stats': none,
  'cache.keys': z
    .object({
      pattern: pattern.optional(),
      cursor: z.string().max(256).optional(),
      limit: z.number().int().min(1).max(1000).optional(),
    })
    .strict(),
  'cache.inspect': z.object({ key: cacheKey }).strict(),
  /** Exactly one of key, pattern or tag. `dryRun` counts without removing. */
  'cache.invalidate': z
    .object({ key: cacheKey.optional(), pattern: pattern.optional(), tag: z.string().min(1).max(512).optional(), dryRun: z.boolean().optional() })
    .strict()
    .refine((a) => [a.key, a.pattern, a.tag].filter((v) => v !== undefined).length === 1, {
      message: 'give exactly one of key, pattern or tag',
    }),
  'cache.clearNamespace': z.object({ namespace: z.string().max(512), dryRun: z.boolean().optional() }).strict(),
  'cache.warm': z.object({ name: z.string().min(1).max(256) }).strict(),
  'rateLimit.list': none,
  'rateLimit.resetKey': z.object({ limiter: z.string().min(1).max(256), key: z.string().min(1).max(1024) }).strict(),
  'rateLimit.setMax': z.object({ limiter: z.string().min(1).max(256), max: z.number().int().min(0).max(1e9) }).strict(),
} as const;

export type CommandName = keyof typeof COMMANDS;
export type CommandArgs<C extends CommandName> = z.output<(typeof COMMANDS)[C]>;

export interface InvalidateResult {
  removed: number;
  dryRun: boolean;
  /** True when a pattern scan stopped at its time box; `removed` is what was done so far. */
  partial?: boolean;
}

export interface CommandResults {
  snapshot: Snapshot;
  reset: { reset: number };
  'thresholds.get': Thresholds;
  'thresholds.set': Thresholds;
  'alerts.list': { active: Alert[]; history: Alert[] };
  'alerts.resolve': Alert;
  'cache.stats': CacheStats;
  'cache.keys': { keys: CacheKeyInfo[]; cursor: string | null };
  'cache.inspect': { key: string; value: string; truncated: boolean; size: number; ttl?: number; tags?: string[]; tier: CacheTier | 'both' };
  'cache.invalidate': InvalidateResult;
  'cache.clearNamespace': InvalidateResult;
  'cache.warm': { name: string; loaded: number };
  'rateLimit.list': RateLimitStats[];
  'rateLimit.resetKey': { reset: boolean };
  'rateLimit.setMax': RateLimitStats;
}

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMANDS, name);
}

/** Validates a command's arguments; throws a ProtocolError(ERR_BAD_ARGS) on failure. */
export function parseCommandArgs<C extends CommandName>(command: C, args: unknown): CommandArgs<C> {
  const result = COMMANDS[command].safeParse(args ?? {});
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; ');
    throw new ProtocolError('ERR_BAD_ARGS', `invalid arguments for ${command}: ${detail}`);
  }
  return result.data as CommandArgs<C>;
}

// ---------------------------------------------------------------- errors

/** Every error code a reply can carry. docs/protocol.md documents each one (a test checks). */
export const ERROR_CODES = {
  ERR_BAD_JSON: 'The message is not valid JSON.',
  ERR_BAD_MESSAGE: 'The message is not one the protocol defines (wrong shape or type).',
  ERR_TOO_LARGE: 'The message or request body exceeds the size limit.',
  ERR_UNKNOWN_COMMAND: 'No command has that name.',
  ERR_BAD_ARGS: 'The command arguments failed validation.',
  ERR_NOT_FOUND: 'The endpoint, alert, key, limiter or warmer named does not exist.',
  ERR_UNAVAILABLE: 'The feature is not enabled in this agent (for example no cache).',
  ERR_PATTERN_REJECTED: 'The glob pattern is too long, has too many wildcards or a character class.',
  ERR_TIMEOUT: 'The command did not finish within its time limit.',
  ERR_UNAUTHORIZED: 'Missing or wrong token.',
  ERR_FORBIDDEN: 'Request refused: browser origin, cross-site request or non-loopback Host.',
  ERR_INTERNAL: 'The agent failed while running the command; it keeps running.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }

  toJSON(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

/** Turns anything thrown into an ErrorInfo safe to send. */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof ProtocolError) return err.toJSON();
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'ERR_INTERNAL', message: message.slice(0, 500) };
}
