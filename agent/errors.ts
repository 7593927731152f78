/**
 * Errors the agent's public API throws, each with a code. Every code is
 * documented in README.md ("Error codes"); test/unit/errors.test.ts checks.
 */
export const AGENT_ERROR_CODES = {
  ROUTELENS_ERR_INVALID_OPTION: 'An option passed to createAgent, createCache, cacheResponses or rateLimit has a wrong type or value.',
  ROUTELENS_ERR_PATTERN_REJECTED: 'A cache glob pattern was refused by the validator (too long, too many wildcards, character classes).',
  ROUTELENS_ERR_CLOSED: 'The agent or cache was closed.',
  ROUTELENS_ERR_LOADER: 'A cache loader failed and no stale value could be served.',
  ROUTELENS_ERR_NOT_FOUND: 'The named warmer, limiter or endpoint does not exist.',
} as const;

export type AgentErrorCode = keyof typeof AGENT_ERROR_CODES;

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

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return `${typeof value} ${String(value)}`;
}
