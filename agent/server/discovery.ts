/**
 * The discovery file `agent-<pid>.json`: how the extension finds the agent and
 * its token. Directory 0700, file 0600, written to a
 * temporary name and renamed so a reader never sees half a file; removed on
 * close, synchronously on process exit, and on Ctrl-C or SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DiscoveryRecord, PROTOCOL_VERSION, discoveryDir, discoveryFileName } from '../../protocol';
import type { Diagnostics } from '../log';

export function defaultDiscoveryDir(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return discoveryDir(process.env, uid, tmpdir(), join);
}

/** Creates (or checks) the directory: a real directory, ours, not group/world accessible. Throws when unsafe. */
function prepareDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) throw new Error(`${dir} belongs to another user`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

export interface DiscoveryHandle {
  file: string;
  remove(): void;
}

/** Writes the record atomically; returns a handle whose `remove` is idempotent and synchronous. */
export function writeDiscovery(dir: string, record: DiscoveryRecord): DiscoveryHandle {
  prepareDir(dir);
  const file = join(dir, discoveryFileName(record.pid));
  const temp = join(dir, `.${discoveryFileName(record.pid)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(record, null, 2) + '\n');
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, file);
  } catch (err) {
    tryUnlink(temp);
    throw err;
  }
  let removed = false;
  const onExit = () => remove();
  function remove(): void {
    if (removed) return;
    removed = true;
    process.removeListener('exit', onExit);
    removeOnSignal.delete(remove);
    if (removeOnSignal.size === 0) unwatchSignals();
    // Only remove the file while it is still ours: another server in this
    // process (same pid) may have rewritten it since.
    try {
      const current = JSON.parse(readFileSync(file, 'utf8')) as { token?: unknown };
      if (current.token !== record.token) return;
    } catch {
      return;
    }
    tryUnlink(file);
  }
  process.on('exit', onExit);
  removeOnSignal.add(remove);
  watchSignals();
  return { file, remove };
}

// ---------------------------------------------------------------- Ctrl-C and SIGTERM

/**
 * Node does not run `exit` listeners when a signal ends the process, so a
 * plain app stopped by Ctrl-C or SIGTERM would leave its discovery file
 * behind. One listener per signal, for every file in the process, removes
 * them when the app has no listener of its own, then re-raises the signal so
 * the process ends exactly as it would have without the agent (same signal,
 * same exit status). An app with its own handler keeps full control: its
 * handler decides whether and how to exit, and `exit` removes the files.
 */
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const removeOnSignal = new Set<() => void>();
let watching = false;

function onSignal(signal: NodeJS.Signals): void {
  // The app listens too: it decides, and if it exits, the `exit` listener removes the files.
  if (process.listenerCount(signal) > 1) return;
  for (const remove of [...removeOnSignal]) remove();
  unwatchSignals();
  process.kill(process.pid, signal);
}

function watchSignals(): void {
  if (watching || process.platform === 'win32') return;
  watching = true;
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function unwatchSignals(): void {
  if (!watching) return;
  watching = false;
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}

function tryUnlink(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}

/**
 * Writes this process's discovery file for a server listening at `port` (removed at exit, on a
 * fatal signal, or by the handle); undefined, with a warning, when it cannot be written. The
 * thread that owns the process's signals writes it, wherever the server runs.
 */
export function advertise(dir: string | undefined, at: { port: number; host: string; token: string; name: string; version: string }, diag: Diagnostics): DiscoveryHandle | undefined {
  const where = dir ?? defaultDiscoveryDir();
  try {
    return writeDiscovery(where, {
      pid: process.pid,
      port: at.port,
      host: at.host,
      token: at.token,
      cwd: process.cwd(),
      name: at.name,
      version: at.version,
      protocolVersion: PROTOCOL_VERSION,
      startedAt: Date.now(),
    });
  } catch (e) {
    diag.warnOnce(
      'ROUTELENS_WARN_DISCOVERY',
      `cannot write the discovery file in ${where} (${(e as Error).message}): the editor will not find this agent; set ROUTELENS_DISCOVERY_DIR to a directory of yours that is writable`,
    );
    return undefined;
  }
}
