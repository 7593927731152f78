/**
 * The agent's two families of codes, each documented in README.md ("Error
 * codes", "Warnings"); test/unit/errors.test.ts checks both ways (every code
 * here is documented and used, every documented code is here).
 *
 * - `ROUTELENS_ERR_*`: thrown by the public API as a RouteLensError.
 * - `ROUTELENS_WARN_*`: written once per code (see agent/log.ts). Start-up
 *   warnings are about the configuration the user gave the agent and are
 *   printed even without a logger; the others go to the logger only.
 *
 * Internal failures (`Diagnostics.failure`) are not codes: they carry a label
 * saying where they happened (`server.http`, `ratelimit.key`), are counted and
 * logged once through the logger.
 */
import { truncate } from './text';

export const AGENT_ERROR_CODES = {
  ROUTELENS_ERR_INVALID_OPTION: 'An option passed to createAgent, createCache, cacheResponses or rateLimit has a wrong type or value, or is unknown.',
  ROUTELENS_ERR_PATTERN_REJECTED: 'A cache glob pattern was refused by the validator (too long, too many wildcards, character classes).',
  ROUTELENS_ERR_CLOSED: 'The agent or cache was closed.',
  ROUTELENS_ERR_LOADER: 'A cache loader failed and no stale value could be served.',
  ROUTELENS_ERR_NOT_FOUND: 'The named warmer, limiter or endpoint does not exist.',
} as const;

export type AgentErrorCode = keyof typeof AGENT_ERROR_CODES;

interface WarningSpec {
  /** True: about the user's own configuration, printed at start even without a logger (stderr). */
  startup: boolean;
  meaning: string;
}

export const AGENT_WARNING_CODES = {
  ROUTELENS_WARN_INVALID_ENV: { startup: true, meaning: 'An environment variable has a value the agent cannot use; the value is ignored and the default applies.' },
  ROUTELENS_WARN_REDIS_URL_IGNORED: { startup: true, meaning: 'REDIS_URL is set but ROUTELENS_REDIS_URL is not: the agent does not use the app’s Redis unless told to.' },
  ROUTELENS_WARN_PORT_IN_USE: { startup: true, meaning: 'The requested port is in use; the local server listens on another (the discovery file has it).' },
  ROUTELENS_WARN_SERVER_DISABLED: { startup: true, meaning: 'The local server could not start (EACCES, EADDRNOTAVAIL, …); measuring goes on without it.' },
  ROUTELENS_WARN_DISCOVERY: { startup: true, meaning: 'The discovery file could not be written (directory not writable, unsafe or another user’s); the extension cannot find this agent.' },
  ROUTELENS_WARN_NON_LOOPBACK_REFUSED: { startup: true, meaning: 'A non-loopback host was ignored; the local server binds 127.0.0.1 (set allowNonLoopback to override).' },
  ROUTELENS_WARN_NON_LOOPBACK: { startup: true, meaning: 'allowNonLoopback: the local server is reachable beyond this machine.' },
  ROUTELENS_WARN_SECOND_AGENT: { startup: true, meaning: 'A second agent was created in this process; it does not write a discovery file over the first one’s.' },
  ROUTELENS_WARN_ENDPOINT_CAP: { startup: false, meaning: 'More than maxEndpoints endpoints: new ones are folded into the overflow bucket.' },
  ROUTELENS_WARN_CACHE_REDIS_DOWN: { startup: false, meaning: 'The cache’s Redis is unreachable; the cache serves from memory until it is back.' },
  ROUTELENS_WARN_RATE_LIMIT_STORE: { startup: false, meaning: 'A limiter’s Redis failed; its onStoreError policy applies (once per limiter).' },
  ROUTELENS_WARN_RATE_LIMIT_REDIS: { startup: false, meaning: 'The limiters’ Redis connection reported an error.' },
  ROUTELENS_WARN_SLOW_LOG: { startup: false, meaning: 'The slow-request log on disk could not be written (full disk, unwritable directory); that batch is dropped and writing is retried.' },
  ROUTELENS_WARN_SLOW_LOG_MISSED: { startup: false, meaning: 'More slow requests arrived between two writes of the log on disk than the in-memory log holds; the rest are counted as missed.' },
  ROUTELENS_WARN_HISTORY: { startup: false, meaning: 'The history on disk could not be written (unwritable or locked directory, full disk); those minutes are dropped and writing is retried every minute.' },
  ROUTELENS_WARN_RATE_LIMIT_CONFIG: { startup: false, meaning: 'express-rate-limit found a configuration problem (its ERR_ERL_* / WRN_ERL_* code is in the message; once per code).' },
} as const satisfies Record<string, WarningSpec>;

export type AgentWarningCode = keyof typeof AGENT_WARNING_CODES;

export class RouteLensError extends Error {
  constructor(
    readonly code: AgentErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RouteLensError';
  }
}

export function invalidOption(name: string, expected: string, got: unknown): RouteLensError {
  return new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `option "${name}" must be ${expected}, got ${describe(got)}`);
}

/** An option no one defines: names the nearest known one when there is one close enough. */
export function unknownOption(scope: string, name: string, known: readonly string[]): RouteLensError {
  const near = nearest(name, known);
  const shown = JSON.stringify(truncate(name, 40));
  return new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', `unknown ${scope} option ${shown}${near ? `: did you mean "${near}"?` : ` (known: ${known.join(', ')})`}`);
}

/** A value for an error message: short, never the whole of a long string or object. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(truncate(value, 40));
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value)}`;
}

/** The candidate closest to `name` (case-insensitive edit distance), when close enough to be a slip. */
export function nearest(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const d = cl.startsWith(lower) || lower.startsWith(cl) ? Math.min(1, editDistance(lower, cl)) : editDistance(lower, cl);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
