/**
 * The slow-request log on disk (optional, `slowLog` option or
 * ROUTELENS_SLOW_LOG_DIR): every slow request as one JSON line in
 * `<dir>/slow.ndjson`, the same redacted entry the editor sees. When the next
 * line would take the file over `maxBytes`, files rotate by renaming
 * (`slow.ndjson` → `slow.1.ndjson` → … `slow.<maxFiles-1>.ndjson`, the oldest
 * deleted), so at most `maxFiles` files are kept.
 *
 * Off the request path: a timer (unref()'d) reads the metrics' slow log from
 * the position it last saw (nothing is consumed; record() is untouched) and
 * appends through an fs write stream, one batch at a time. A write that fails
 * (full disk, directory gone or unwritable) drops that batch, warns once
 * through the agent's Diagnostics and retries after RETRY_MS; the app never
 * sees it.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { SlowRequest } from '../protocol';
import { invalidOption } from './errors';
import type { Diagnostics } from './log';

export interface SlowLogOptions {
  /** Directory of the log (created if missing); relative to the working directory. ROUTELENS_SLOW_LOG_DIR. */
  dir: string;
  /** Size at which the file rotates (bytes). Default 10 MiB. */
  maxBytes?: number;
  /** Files kept, the current one included. Default 5. */
  maxFiles?: number;
}

export interface ResolvedSlowLog {
  dir: string;
  maxBytes: number;
  maxFiles: number;
}

export const SLOW_LOG_FILE = 'slow.ndjson';
const KEYS = ['dir', 'maxBytes', 'maxFiles'];
/** How often new slow requests are read (ms); the metrics keep the latest 100. */
const READ_MS = 250;
/** After a failed write, nothing is tried for this long (ms). */
const RETRY_MS = 5000;
/** Lines waiting for the disk; beyond this they are dropped (counted). */
const MAX_PENDING = 10_000;
/** How long close() waits for the last writes. */
const CLOSE_WAIT_MS = 2000;

/**
 * Validates the `slowLog` option (with ROUTELENS_SLOW_LOG_DIR, which wins over
 * `dir` and turns the log on by itself). Throws ROUTELENS_ERR_INVALID_OPTION.
 */
export function resolveSlowLog(value: unknown, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ResolvedSlowLog | false {
  const envDir = env.ROUTELENS_SLOW_LOG_DIR || undefined;
  let o: unknown = value;
  if (o === undefined || o === false) {
    if (envDir === undefined) return false;
    o = {};
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw invalidOption('slowLog', '{ dir, maxBytes?, maxFiles? } or false', o);
  const opts = o as Record<string, unknown>;
  for (const k of Object.keys(opts)) if (!KEYS.includes(k)) throw invalidOption(`slowLog.${k}`, `one of ${KEYS.join(', ')}`, k);
  const dir = envDir ?? opts.dir;
  if (typeof dir !== 'string' || dir.trim() === '' || dir.includes('\0')) throw invalidOption(envDir !== undefined ? 'ROUTELENS_SLOW_LOG_DIR' : 'slowLog.dir', 'a directory path', dir);
  return {
    dir: resolve(cwd, dir),
    maxBytes: integer(opts.maxBytes, 'slowLog.maxBytes', 10 * 1024 * 1024, 1024, 1024 ** 3),
    maxFiles: integer(opts.maxFiles, 'slowLog.maxFiles', 5, 1, 100),
  };
}

function integer(v: unknown, name: string, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw invalidOption(name, `an integer from ${min} to ${max}`, v);
  return v;
}

/** Where the metrics' slow log stands: entries after `since`, newest first. */
export type SlowSource = (since: number) => { slowRequests: SlowRequest[]; position: number; missed: number };

export interface SlowLogStatus {
  /** The current file. */
  file: string;
  /** Lines written since the start. */
  written: number;
  /** Slow requests not written: a failed write, the retry pause, or more than the metrics keep between two reads. */
  dropped: number;
  /** Failed writes or rotations. */
  errors: number;
  /** The latest failure (`ENOSPC: …`), cleared by the next good write. */
  lastError?: string;
}

export class SlowLogFile {
  private readonly file: string;
  private readonly timer: NodeJS.Timeout;
  private position = 0;
  private pending: string[] = [];
  /** Bytes in the current file; undefined = not known (read from the disk before the next write). */
  private size: number | undefined;
  private retryAt = 0;
  private pump: Promise<void> | undefined;
  private closed = false;
  private readonly counts: Omit<SlowLogStatus, 'file'> = { written: 0, dropped: 0, errors: 0 };

  constructor(
    private readonly opts: ResolvedSlowLog,
    private readonly source: SlowSource,
    private readonly diag: Diagnostics,
    private readonly clock: () => number = Date.now,
  ) {
    this.file = join(opts.dir, SLOW_LOG_FILE);
    this.timer = setInterval(() => this.read(), READ_MS);
    this.timer.unref();
  }

  status(): SlowLogStatus {
    return { file: this.file, ...this.counts };
  }

  /** Reads what is new and resolves once it is on disk (or dropped). */
  async flush(): Promise<void> {
    this.read();
    while (this.pump) await this.pump;
  }

  /** Writes what is left (waiting at most CLOSE_WAIT_MS) and stops. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    clearInterval(this.timer);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise((r) => (timeout = setTimeout(r, CLOSE_WAIT_MS).unref()))]);
    clearTimeout(timeout);
    this.closed = true;
  }

  private read(): void {
    if (this.closed) return;
    try {
      const { slowRequests, position, missed } = this.source(this.position);
      this.position = position;
      if (missed > 0) {
        this.counts.dropped += missed;
        this.diag.warnOnce('ROUTELENS_WARN_SLOW_LOG_MISSED', `slow log: ${missed} slow requests came faster than they were read and were not written to disk`);
      }
      for (let i = slowRequests.length - 1; i >= 0; i--) this.pending.push(JSON.stringify(slowRequests[i]) + '\n');
      if (this.pending.length > MAX_PENDING) this.counts.dropped += this.pending.splice(0, this.pending.length - MAX_PENDING).length;
      if (this.pending.length > 0 && !this.pump) this.pump = this.drain().finally(() => (this.pump = undefined));
    } catch (err) {
      this.diag.failure('slowlog.read', err);
    }
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const lines = this.pending;
      this.pending = [];
      if (this.clock() < this.retryAt) {
        this.counts.dropped += lines.length;
        continue;
      }
      await this.write(lines);
    }
  }

  /** Appends `lines`, rotating first whenever the next line would take the file over maxBytes. Never rejects. */
  private async write(lines: string[]): Promise<void> {
    const max = this.opts.maxBytes;
    const bytes = lines.map((l) => Buffer.byteLength(l));
    let i = 0;
    try {
      this.size ??= await this.currentSize();
      while (i < lines.length) {
        if (this.size > 0 && this.size + bytes[i]! > max) await this.rotate();
        let j = i;
        let chunk = 0;
        do chunk += bytes[j++]!;
        while (j < lines.length && this.size + chunk + bytes[j]! <= max);
        await append(this.file, lines.slice(i, j).join(''));
        this.size += chunk;
        this.counts.written += j - i;
        i = j;
      }
      delete this.counts.lastError;
    } catch (err) {
      // What was written stays written; the rest of the batch is dropped.
      this.failed(err, lines.length - i);
    }
  }

  private async currentSize(): Promise<number> {
    await mkdir(this.opts.dir, { recursive: true });
    try {
      return (await stat(this.file)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  }

  /** slow.ndjson → slow.1.ndjson → …; the file that would be number maxFiles is deleted. */
  private async rotate(): Promise<void> {
    const { dir, maxFiles } = this.opts;
    const name = (k: number) => join(dir, k === 0 ? SLOW_LOG_FILE : `slow.${k}.ndjson`);
    await rm(name(maxFiles - 1), { force: true });
    for (let k = maxFiles - 2; k >= 0; k--) {
      try {
        await rename(name(k), name(k + 1));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    this.size = 0;
  }

  private failed(err: unknown, lines: number): void {
    this.counts.errors++;
    this.counts.dropped += lines;
    const message = err instanceof Error ? err.message : String(err);
    this.counts.lastError = message.slice(0, 300);
    this.size = undefined;
    this.retryAt = this.clock() + RETRY_MS;
    this.diag.warnOnce('ROUTELENS_WARN_SLOW_LOG', `slow log ${this.file}: ${this.counts.lastError}; slow requests are not written to disk until it works again (measuring goes on)`);
  }
}

/** Appends through a write stream (O_APPEND), opened for this batch: a file moved or deleted meanwhile is recreated. */
function append(file: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file, { flags: 'a' });
    out.once('error', reject);
    out.once('close', resolve);
    out.end(text);
  });
}
