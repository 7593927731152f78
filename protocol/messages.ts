/**
 * Messages on the WebSocket at `/v1/stream`. JSON text frames, one message each.
 */
import { z } from 'zod';
import { type CommandName, type CommandResults, type ErrorInfo, ProtocolError, isCommandName, parseCommandArgs } from './commands';
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

const commandEnvelope = z
  .object({
    type: z.literal('command'),
    id: z.union([z.string().min(1).max(128), z.number().int().safe()]),
    command: z.string().min(1).max(128),
    args: z.unknown().optional(),
  })
  .strict();

export type ParsedClientMessage =
  | { ok: true; message: CommandMessage; args: unknown }
  | { ok: false; id: string | number | null; error: ErrorInfo };

/**
 * Validates one raw client frame: JSON, envelope, command name, then arguments.
 * Never throws; a failure carries the request id when one could be read.
 */
export function parseClientMessage(raw: string): ParsedClientMessage {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return { ok: false, id: null, error: { code: 'ERR_BAD_JSON', message: 'message is not valid JSON' } };
  }
  const envelope = commandEnvelope.safeParse(data);
  if (!envelope.success) {
    const id = readId(data);
    return { ok: false, id, error: { code: 'ERR_BAD_MESSAGE', message: `not a protocol message: ${envelope.error.issues[0]?.message ?? 'bad shape'}` } };
  }
  const message = envelope.data as CommandMessage;
  if (!isCommandName(message.command)) {
    return { ok: false, id: message.id, error: { code: 'ERR_UNKNOWN_COMMAND', message: `unknown command: ${String(message.command).slice(0, 64)}` } };
  }
  try {
    const args = parseCommandArgs(message.command, message.args);
    return { ok: true, message, args };
  } catch (err) {
    return { ok: false, id: message.id, error: (err as ProtocolError).toJSON() };
  }
}

function readId(data: unknown): string | number | null {
  if (data === null || typeof data !== 'object') return null;
  const id = (data as { id?: unknown }).id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  if (typeof id === 'string' && id.length > 0 && id.length <= 128) return id;
  return null;
}

/** A typed reply, for clients that know which command they sent. */
export type ReplyFor<C extends CommandName> = CommandResults[C];

/** For exhaustive switches: a compile error when a case is missing. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
