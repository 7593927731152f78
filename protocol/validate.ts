/**
 * The schemas of everything that crosses a trust boundary, and the parsers
 * that apply them: a client's WebSocket frame, an HTTP command's body, a
 * webview's message. The one module of protocol/ that uses a validation
 * library (zod); the types it checks against are declared in the others, and
 * the compiler keeps the two in step (see `Same` below).
 */
import { z } from 'zod';
import { type CommandArgs, type CommandArgsMap, type CommandName, ProtocolError, type ThresholdsPatch, isCommandName } from './commands';
import type { CommandMessage, ParsedClientMessage } from './messages';
import { SCALAR_THRESHOLDS, type ScalarThreshold, THRESHOLD_SPECS, type ThresholdSpec } from './thresholds';
import { WINDOWS } from './types';
import { WEBVIEW_COMMANDS, type WebviewToHost } from './webview';

const none = z.object({}).strict();
const endpointId = z.string().min(1).max(2048);
const cacheKey = z.string().min(1).max(4096);
/** Glob patterns are checked again, more strictly, by the cache's validator. */
const pattern = z.string().min(1).max(512);

const slowMs = z
  .object({ info: z.number().positive(), warning: z.number().positive(), critical: z.number().positive() })
  .partial()
  .strict();

const scalarThreshold = (s: ThresholdSpec) => (s.minInclusive ? z.number().min(s.min) : z.number().gt(s.min)).max(s.max);
const scalarThresholds = Object.fromEntries(SCALAR_THRESHOLDS.map((k) => [k, scalarThreshold(THRESHOLD_SPECS[k])])) as Record<ScalarThreshold, z.ZodNumber>;

export const thresholdsPatch = z
  .object({ ...scalarThresholds, slowMs })
  .partial()
  .strict();

/** Every command's argument schema. */
export const COMMAND_SCHEMAS = {
  snapshot: none,
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
  'measuring.set': z.object({ paused: z.boolean() }).strict(),
  'traces.list': z.object({ endpoint: endpointId, limit: z.number().int().min(1).max(100).optional() }).strict(),
  'endpoint.breakdown': z.object({ endpoint: endpointId, window: z.enum(WINDOWS).optional() }).strict(),
  'findings.list': none,
  'profile.start': z.object({ endpoint: endpointId, seconds: z.number().min(1).max(120).optional() }).strict(),
  'history.get': z
    .object({
      endpoint: endpointId,
      from: z.number().int().min(0).optional(),
      to: z.number().int().min(0).optional(),
      resolution: z.enum(['minute', 'hour', 'day']).optional(),
    })
    .strict(),
  'baseline.compare': none,
  'baseline.set': z.object({ file: z.string().min(1).max(4096).optional() }).strict(),
} as const satisfies { [C in CommandName]: z.ZodType };

// The schemas and the declared argument types must agree both ways: a compile
// error here names the command whose schema and type drifted apart.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Drift = { [C in CommandName]: Same<z.output<(typeof COMMAND_SCHEMAS)[C]>, CommandArgsMap[C]> extends true ? never : C }[CommandName];
const noDrift: [Drift] extends [never] ? true : Drift = true;
void noDrift;
// Optional fields escape the check above (a schema without one still agrees): the thresholds patch lists every field.
const thresholdFieldsInStep: Same<keyof z.output<typeof thresholdsPatch>, keyof ThresholdsPatch> = true;
void thresholdFieldsInStep;

/** Validates a command's arguments; throws a ProtocolError(ERR_BAD_ARGS) on failure. */
export function parseCommandArgs<C extends CommandName>(command: C, args: unknown): CommandArgs<C> {
  const result = COMMAND_SCHEMAS[command].safeParse(args ?? {});
  if (!result.success) {
    const detail = result.error.issues.map((i) => `${i.path.join('.') || 'args'}: ${i.message}`).join('; ');
    throw new ProtocolError('ERR_BAD_ARGS', `invalid arguments for ${command}: ${detail}`);
  }
  return result.data as CommandArgs<C>;
}

// ---------------------------------------------------------------- WebSocket frames

const commandEnvelope = z
  .object({
    type: z.literal('command'),
    id: z.union([z.string().min(1).max(128), z.number().int().safe()]),
    command: z.string().min(1).max(128),
    args: z.unknown().optional(),
  })
  .strict();

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

// ---------------------------------------------------------------- webview messages

const webviewMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready') }).strict(),
  z
    .object({
      type: z.literal('command'),
      id: z.number().int().nonnegative().safe(),
      command: z.enum(WEBVIEW_COMMANDS),
      args: z.unknown().optional(),
    })
    .strict(),
  z.object({ type: z.literal('openHandler'), endpointId: z.string().min(1).max(2048) }).strict(),
  z.object({ type: z.literal('selectAgent'), agentId: z.string().min(1).max(256) }).strict(),
  z
    .object({
      type: z.literal('openLocation'),
      location: z.object({ file: z.string().min(1).max(4096), line: z.number().int().min(1).max(10_000_000), column: z.number().int().min(0).max(1_000_000) }).strict(),
    })
    .strict(),
]);

type WebviewDrift = Same<z.output<typeof webviewMessage>, WebviewToHost>;
const noWebviewDrift: WebviewDrift = true;
void noWebviewDrift;

/** Validates a message from the webview, including the forwarded command's arguments. */
export function parseWebviewMessage(data: unknown): { ok: true; message: WebviewToHost } | { ok: false; error: string } {
  const parsed = webviewMessage.safeParse(data);
  if (!parsed.success) return { ok: false, error: parsed.error.issues[0]?.message ?? 'bad message' };
  const message = parsed.data;
  if (message.type === 'command') {
    const args = COMMAND_SCHEMAS[message.command].safeParse(message.args ?? {});
    if (!args.success) return { ok: false, error: `invalid arguments for ${message.command}` };
    return { ok: true, message: { ...message, args: args.data } };
  }
  return { ok: true, message };
}
