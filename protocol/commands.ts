/**
 * Commands a client sends to the agent, and what each answers: `CommandArgsMap`
 * holds every command's argument type, `CommandResults` its result type.
 * Free of any validation library, so the webview and the public type
 * declarations can import it; the schemas live in ./validate.ts.
 */
import type { BaselineComparison, HistoryAnswer, HistoryResolution } from './history';
import type { Breakdown, Finding, ProfileSummary, Trace } from './spans';
import type {
  Alert,
  CacheKeyInfo,
  CacheStats,
  CacheTier,
  RateLimitStats,
  Snapshot,
  Thresholds,
  WindowName,
} from './types';

/** A partial update of the alert thresholds; `slowMs` may itself be partial. */
export type ThresholdsPatch = Partial<Omit<Thresholds, 'slowMs'>> & { slowMs?: Partial<Thresholds['slowMs']> };

/**
 * Every command's arguments, by name. protocol/validate.ts holds the schema
 * of each (limits, lengths, exactly-one rules) and checks at compile time that
 * the schemas and these types agree.
 */
export interface CommandArgsMap {
  /** A full snapshot (clients also receive one on connect and after a resync). */
  snapshot: Record<string, never>;
  /** Reset all metrics, or one endpoint's. */
  reset: { endpoint?: string };
  'thresholds.get': Record<string, never>;
  'thresholds.set': { thresholds: ThresholdsPatch };
  'alerts.list': Record<string, never>;
  'alerts.resolve': { id: string };
  'cache.stats': Record<string, never>;
  'cache.keys': { pattern?: string; cursor?: string; limit?: number };
  'cache.inspect': { key: string };
  /** Exactly one of key, pattern or tag. `dryRun` counts without removing. */
  'cache.invalidate': { key?: string; pattern?: string; tag?: string; dryRun?: boolean };
  'cache.clearNamespace': { namespace: string; dryRun?: boolean };
  'cache.warm': { name: string };
  'rateLimit.list': Record<string, never>;
  'rateLimit.resetKey': { limiter: string; key: string };
  'rateLimit.setMax': { limiter: string; max: number };
  /** Pause (`true`) or resume (`false`) measuring; figures recorded so far stay. */
  'measuring.set': { paused: boolean };
  /** One endpoint's kept traces (slowest of the last 5 minutes first, then recent ones). */
  'traces.list': { endpoint: string; limit?: number };
  /** Where one endpoint's time went over a live window (default `5m`). */
  'endpoint.breakdown': { endpoint: string; window?: WindowName };
  'findings.list': Record<string, never>;
  /** Records a CPU profile for `seconds` (default 10) and keeps the samples of that endpoint's handler and middleware. */
  'profile.start': { endpoint: string; seconds?: number };
  /** One endpoint's history (default: the last 24 hours at the resolution that fits). */
  'history.get': { endpoint: string; from?: number; to?: number; resolution?: HistoryResolution };
  /** The live figures against the baseline (the default branch's recent figures, or the saved file set by `baseline.set`). */
  'baseline.compare': Record<string, never>;
  /** Compare against a saved baseline file (`routelens baseline --out`), or (no file) against the default branch again. */
  'baseline.set': { file?: string };
}

export type CommandName = keyof CommandArgsMap;
export type CommandArgs<C extends CommandName> = CommandArgsMap[C];

/** Every command name, in the order of the table. */
export const COMMAND_NAMES = [
  'snapshot',
  'reset',
  'thresholds.get',
  'thresholds.set',
  'alerts.list',
  'alerts.resolve',
  'cache.stats',
  'cache.keys',
  'cache.inspect',
  'cache.invalidate',
  'cache.clearNamespace',
  'cache.warm',
  'rateLimit.list',
  'rateLimit.resetKey',
  'rateLimit.setMax',
  'measuring.set',
  'traces.list',
  'endpoint.breakdown',
  'findings.list',
  'profile.start',
  'history.get',
  'baseline.compare',
  'baseline.set',
] as const satisfies readonly CommandName[];

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
  'measuring.set': { paused: boolean };
  'traces.list': { traces: Trace[] };
  'endpoint.breakdown': Breakdown;
  'findings.list': { findings: Finding[] };
  'profile.start': ProfileSummary;
  'history.get': HistoryAnswer;
  'baseline.compare': BaselineComparison;
  'baseline.set': BaselineComparison;
}

const commandNames: ReadonlySet<string> = new Set(COMMAND_NAMES);

export function isCommandName(name: string): name is CommandName {
  return commandNames.has(name);
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
