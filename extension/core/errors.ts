/** Coded errors raised by the extension's own code (agent replies keep the agent's ErrorCode). */
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
