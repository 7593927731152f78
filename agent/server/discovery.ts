/**
 * The discovery file `agent-<pid>.json`: how the extension finds the agent and
 * its token (reliability bar item 5). Directory 0700, file 0600, written to a
 * temporary name and renamed so a reader never sees half a file; removed on
 * close and, synchronously, on process exit.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DiscoveryRecord, discoveryDir, discoveryFileName } from '../../protocol';

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
  return { file, remove };
}

function tryUnlink(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    /* already gone */
  }
}
