/**
 * The agent lives in someone else's app: it writes nothing unless asked
 * (`logger` option or ROUTELENS_DEBUG=1). Internal failures are counted and
 * logged once per code, so a failing hook on every request costs one line.
 */
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

export class Diagnostics {
  private readonly seen = new Set<string>();
  /** Internal failures caught by the agent, by code. */
  readonly failures = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  /** Logs a warning the first time a code is seen. */
  warnOnce(code: string, message: string): void {
    if (this.seen.has(code)) return;
    this.seen.add(code);
    safe(() => this.logger.warn(`${message} (${code})`));
  }

  /** Counts an internal failure and logs it once per code. Never throws. */
  failure(code: string, err: unknown): void {
    this.failures.set(code, (this.failures.get(code) ?? 0) + 1);
    if (this.seen.has(code)) return;
    this.seen.add(code);
    const message = err instanceof Error ? err.message : String(err);
    safe(() => this.logger.error(`internal failure ${code}: ${message}; measuring goes on`));
  }

  info(message: string): void {
    safe(() => this.logger.info?.(message));
  }
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    /* a user logger that throws must not reach the app */
  }
}
