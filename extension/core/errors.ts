/**
 * Coded errors of the extension's client: a command the editor sent failed,
 * either with the agent's wire code (`ERR_*`, from the reply) or locally
 * (`RL_ERR_*`: not connected, timed out, …). Each RL_ERR_* code is documented
 * in docs/extension.md and raised somewhere (test/unit/errors.test.ts).
 *
 * Not the agent's RouteLensError (agent/errors.ts): that one is thrown by the
 * agent's public API into the user's app, with `ROUTELENS_ERR_*` codes; this
 * one lives in the editor and carries protocol codes. They share no code and
 * never meet in one process.
 */
import type { ErrorCode } from '../../protocol';

export const EXTENSION_ERROR_CODES = {
  RL_ERR_NOT_CONNECTED: 'The agent is not connected (it may be restarting).',
  RL_ERR_NO_AGENT: 'No agent is selected or discovered.',
  RL_ERR_TIMEOUT: 'The agent did not answer within the request timeout.',
  RL_ERR_CLOSED: 'The connection closed before the agent answered.',
  RL_ERR_DISPOSED: 'The client was disposed.',
  RL_ERR_BAD_REPLY: 'The agent sent a message that is not valid protocol.',
} as const;

export type ExtensionErrorCode = keyof typeof EXTENSION_ERROR_CODES;

export class RouteLensError extends Error {
  constructor(
    readonly code: ExtensionErrorCode | ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RouteLensError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof RouteLensError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}
