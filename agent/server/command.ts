/**
 * Runs one validated command against the host with a time limit. Used by both
 * the WebSocket and the HTTP API so both answer the same way.
 */
import { type CommandArgs, type CommandName, type ErrorInfo, ProtocolError, toErrorInfo } from '../../protocol';
import type { AgentHost, CommandSource } from '../internal';
import { DEFAULT_PROFILE_SECONDS } from '../profile';

export type CommandOutcome = { ok: true; result: unknown } | { ok: false; error: ErrorInfo };

const MAX_ERROR_MESSAGE = 500;

export function errorInfo(err: unknown): ErrorInfo {
  const info = toErrorInfo(err);
  return info.message.length > MAX_ERROR_MESSAGE ? { code: info.code, message: info.message.slice(0, MAX_ERROR_MESSAGE) } : info;
}

/** How long a command runs by design (ms), on top of the time limit: a route profile's seconds. */
function runsFor<C extends CommandName>(command: C, args: CommandArgs<C>): number {
  if (command !== 'profile.start') return 0;
  return 1000 * ((args as CommandArgs<'profile.start'>).seconds ?? DEFAULT_PROFILE_SECONDS);
}

/** Never rejects; settles exactly once (result, error or ERR_TIMEOUT). */
export function runCommand<C extends CommandName>(host: AgentHost, command: C, args: CommandArgs<C>, source: CommandSource, timeoutMs: number): Promise<CommandOutcome> {
  return new Promise<CommandOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: CommandOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const limit = timeoutMs + runsFor(command, args);
    const timer = setTimeout(() => finish({ ok: false, error: new ProtocolError('ERR_TIMEOUT', `${command} did not finish within ${limit} ms`).toJSON() }), limit);
    timer.unref();
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(host.execute(command, args, source));
    } catch (err) {
      finish({ ok: false, error: errorInfo(err) });
      return;
    }
    pending.then(
      (result) => finish({ ok: true, result }),
      (err: unknown) => finish({ ok: false, error: errorInfo(err) }),
    );
  });
}
