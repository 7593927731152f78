/**
 * Messages on the WebSocket at `/v1/stream`. JSON text frames, one message each.
 * Validation of what a client sends is in ./validate.ts (`parseClientMessage`).
 */
import type { CommandArgs, CommandName, CommandResults, ErrorInfo } from './commands';
import type { Delta, Snapshot } from './types';

/** Client → agent: run a command. The agent answers with exactly one `reply` carrying the same id. */
export interface CommandMessage<C extends CommandName = CommandName> {
  type: 'command';
  id: string | number;
  command: C;
  args?: unknown;
}

/** Client → agent: every message a client may send. */
export type ClientMessage = CommandMessage;

/** Agent → client: the full state; sent on connect and whenever the client fell behind. */
export interface SnapshotMessage {
  type: 'snapshot';
  seq: number;
  snapshot: Snapshot;
}

/** Agent → client: changes since the previous message (batched, at most every `batchMs`). */
export interface DeltaMessage {
  type: 'delta';
  seq: number;
  delta: Delta;
}

/** Agent → client: the answer to one command. */
export type ReplyMessage =
  | { type: 'reply'; id: string | number; ok: true; result: unknown }
  | { type: 'reply'; id: string | number | null; ok: false; error: ErrorInfo };

/** Agent → client: every message the agent may send. */
export type AgentMessage = SnapshotMessage | DeltaMessage | ReplyMessage;

/** Limit on one client message; the agent's ws `maxPayload`. */
export const MAX_CLIENT_MESSAGE_BYTES = 64 * 1024;

export type ParsedClientMessage =
  | { ok: true; message: CommandMessage; args: CommandArgs<CommandName> }
  | { ok: false; id: string | number | null; error: ErrorInfo };

/** A typed reply, for clients that know which command they sent. */
export type ReplyFor<C extends CommandName> = CommandResults[C];

/** For exhaustive switches: a compile error when a case is missing. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
