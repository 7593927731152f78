/**
 * The `history` option: `false`, or `{ dir?, maxBytes? }` (also
 * ROUTELENS_HISTORY=0 and ROUTELENS_HISTORY_DIR, read by agent/options.ts).
 * The default directory is the app's `.routelens/history/` (with a
 * `.gitignore` of `*` in `.routelens/`), or the user's data directory when
 * the working directory cannot be written.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import * as check from '../check';
import { invalidOption } from '../errors';

export interface HistoryOptions {
  /** Directory of the store (created if missing), relative to the working directory. ROUTELENS_HISTORY_DIR. */
  dir?: string;
  /** Bound of the store on disk (bytes). Default 100 MiB. */
  maxBytes?: number;
}

export interface ResolvedHistory {
  dir: string;
  maxBytes: number;
  /** Where the `.gitignore` goes (the default location only). */
  gitignoreDir?: string;
  /** The app's working directory: baseline files are read relative to it, and only inside it. */
  cwd: string;
}

export const DEFAULT_HISTORY_BYTES = 100 * 1024 * 1024;
const MAX_BYTES: check.Range = { min: 64 * 1024, max: 1024 ** 4, integer: true };

export function resolveHistory(value: unknown, env: { off: boolean; dir: string | undefined }, cwd: string, platform = process.platform): ResolvedHistory | false {
  if (value === false || env.off) return false;
  const o = value === undefined ? {} : check.object(value, 'history');
  check.knownFields(o, ['dir', 'maxBytes'], 'history');
  const maxBytes = check.number(o, 'maxBytes', DEFAULT_HISTORY_BYTES, MAX_BYTES, 'history.maxBytes');
  const dirOption = o.dir;
  if (dirOption !== undefined && (typeof dirOption !== 'string' || dirOption.trim() === '' || dirOption.includes('\0'))) throw invalidOption('history.dir', 'a directory path', dirOption);
  const dir = env.dir ?? dirOption;
  if (dir !== undefined) return { dir: resolve(cwd, dir), maxBytes, cwd };
  const workspace = join(cwd, '.routelens');
  if (writable(cwd) || writable(workspace)) return { dir: join(workspace, 'history'), maxBytes, gitignoreDir: workspace, cwd };
  return { dir: join(dataDir(platform), 'routelens', 'history', appFolder(cwd)), maxBytes, cwd };
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The user's data directory: XDG_DATA_HOME (~/.local/share), ~/Library/Application Support, %LOCALAPPDATA%. */
function dataDir(platform: NodeJS.Platform): string {
  if (platform === 'win32') return process.env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support');
  return process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
}

/** One folder per app directory: its name and a hash of its path. */
function appFolder(cwd: string): string {
  const name = basename(cwd).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40) || 'app';
  return `${name}-${createHash('sha256').update(cwd).digest('hex').slice(0, 12)}`;
}
