/**
 * Where the agent writes. The rule: the agent lives in someone else's app, so
 * it writes nothing to the console unless asked (`logger` option, or
 * ROUTELENS_DEBUG=1 for the console).
 *
 * The one exception is start-up warnings about the user's own configuration
 * (the codes with `startup: true` in agent/errors.ts: a bad environment value,
 * REDIS_URL ignored, the port in use, the discovery directory not writable, a
 * non-loopback host ignored, a second agent in the process). A mistake the user
 * cannot see is worse than one line: each is written once, to the logger when
 * one was given, else as one line on stderr. Everything else (warnings at run
 * time, internal failures) goes to the logger only.
 *
 * Internal failures are counted and logged once per label, so a failing hook
 * on every request costs one line.
 */
import { AGENT_WARNING_CODES, type AgentWarningCode } from './errors';

export interface Logger {
  debug?(message: string): void;
  info?(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = { warn() {}, error() {} };

export const consoleLogger: Logger = {
  info: (m) => console.info(`[routelens] ${m}`),
  warn: (m) => console.warn(`[routelens] ${m}`),
  error: (m) => console.error(`[routelens] ${m}`),
};

/** Start-up warnings without a logger: one line on stderr. */
function writeStderr(line: string): void {
  process.stderr.write(`[routelens] ${line}\n`);
}

export class Diagnostics {
  private readonly seen = new Set<string>();
  /** Internal failures caught by the agent, by label. */
  readonly failures = new Map<string, number>();

  /**
   * @param logger the user's logger; undefined when none was given (start-up warnings then go to `stderr`).
   * @param stderr where start-up warnings go without a logger (tests inject one).
   */
  constructor(
    private readonly logger: Logger | undefined,
    private readonly stderr: (line: string) => void = writeStderr,
  ) {}

  /** Writes a warning the first time `once` (default: the code) is seen. */
  warnOnce(code: AgentWarningCode, message: string, once: string = code): void {
    if (this.seen.has(once)) return;
    this.seen.add(once);
    const line = `${message} (${code})`;
    if (this.logger) safe(() => this.logger?.warn(line));
    else if (AGENT_WARNING_CODES[code].startup) safe(() => this.stderr(line));
  }

  /** Counts an internal failure and logs it once per label. Never throws. */
  failure(where: string, err: unknown): void {
    this.failures.set(where, (this.failures.get(where) ?? 0) + 1);
    if (this.seen.has(where)) return;
    this.seen.add(where);
    const message = err instanceof Error ? err.message : String(err);
    safe(() => this.logger?.error(`internal failure ${where}: ${message}; measuring goes on`));
  }

  info(message: string): void {
    safe(() => this.logger?.info?.(message));
  }

  /** True when the app gave a logger. */
  get hasLogger(): boolean {
    return this.logger !== undefined;
  }

  /** Writes a line another thread's Diagnostics produced ('stderr': a start-up warning without a logger). */
  relay(level: 'warn' | 'error' | 'info' | 'stderr', line: string): void {
    if (level === 'stderr') safe(() => this.stderr(line));
    else if (level === 'info') safe(() => this.logger?.info?.(line));
    else safe(() => this.logger?.[level](line));
  }
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    /* a user logger (or a closed stderr) that throws must not reach the app */
  }
}
