/**
 * Finds running agents through their discovery files (protocol/discovery.ts).
 * Pure Node (no vscode): the extension wraps it with settings and workspace folders.
 */
import { type FSWatcher, constants as fsConstants, promises as fsp, readFileSync, watch } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import { DISCOVERY_FILE_PATTERN, type DiscoveryRecord, PROTOCOL_VERSION, asDiscoveryRecord, discoveryDir } from '../../protocol';

export interface DiscoveredAgent {
  /** Stable across restarts of the same app: name + working directory. */
  key: string;
  file: string;
  record: DiscoveryRecord;
}

export interface PathMapping {
  /** Path prefix as the agent sees it (`/app`). */
  remote: string;
  /** The same folder on this machine. */
  local: string;
}

/** The discovery directory: the `routelens.discoveryDir` override, else the protocol's rule. */
export function resolveDiscoveryDir(override?: string, env: Record<string, string | undefined> = process.env): string {
  if (override && override.trim()) return override.trim();
  let uid: number;
  try {
    uid = typeof process.getuid === 'function' ? process.getuid() : userInfo().uid;
  } catch {
    uid = 0;
  }
  return discoveryDir(env, uid, tmpdir(), join);
}

export function agentKey(record: Pick<DiscoveryRecord, 'name' | 'cwd'>): string {
  return `${record.name}@${record.cwd}`;
}

/** True when a process with that pid exists (EPERM means it exists but is not ours). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Linux only: when the pid's process started clearly after the record's
 * `startedAt`, the pid was reused and the record is stale. Elsewhere: unknown (false).
 */
export function isPidReused(record: DiscoveryRecord): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(startTicks) || !Number.isFinite(btime)) return false;
    const processStart = btime * 1000 + (startTicks / 100) * 1000; // CLK_TCK is 100 on Linux
    return processStart > record.startedAt + 5000;
  } catch {
    return false;
  }
}

export interface ReadOptions {
  isAlive?: (pid: number) => boolean;
  isReused?: (record: DiscoveryRecord) => boolean;
  log?: (line: string) => void;
  /** Delete the files of agents whose process is gone. Default true. */
  removeDead?: boolean;
  /** Read only regular files (never through a symlink) owned by this uid. Default: any owner. */
  ownerUid?: number;
}

/** Reads every valid, live discovery record in `dir` (missing dir → none). Newest first. */
export async function readDiscovery(dir: string, options: ReadOptions = {}): Promise<DiscoveredAgent[]> {
  const isAlive = options.isAlive ?? isPidAlive;
  const isReused = options.isReused ?? isPidReused;
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const found: DiscoveredAgent[] = [];
  for (const name of names) {
    if (!DISCOVERY_FILE_PATTERN.test(name)) continue;
    const file = join(dir, name);
    let record: DiscoveryRecord | undefined;
    try {
      const text = options.ownerUid === undefined ? await fsp.readFile(file, 'utf8') : await readOwnedFile(file, options.ownerUid);
      if (text === undefined) {
        options.log?.(`discovery: ignoring ${name}: not a regular file owned by uid ${options.ownerUid}`);
        continue;
      }
      if (text.length > 64 * 1024) throw new Error('too large');
      record = asDiscoveryRecord(JSON.parse(text));
    } catch {
      record = undefined;
    }
    if (!record) {
      options.log?.(`discovery: ignoring malformed ${name}`);
      continue;
    }
    if (record.protocolVersion > PROTOCOL_VERSION) {
      options.log?.(`discovery: ignoring ${name}: protocol ${record.protocolVersion} is newer than ${PROTOCOL_VERSION}`);
      continue;
    }
    if (!isAlive(record.pid)) {
      // Left behind by an app that was killed (SIGKILL, a crash): nobody will ever answer on it.
      const removed = options.removeDead !== false && (await fsp.unlink(file).then(() => true, () => false));
      options.log?.(`discovery: ${removed ? 'removed' : 'ignoring'} ${name}: pid ${record.pid} is not running`);
      continue;
    }
    if (isReused(record)) {
      options.log?.(`discovery: ignoring stale ${name}: pid ${record.pid} belongs to a newer process`);
      continue;
    }
    found.push({ key: agentKey(record), file, record });
  }
  return found.sort((a, b) => b.record.startedAt - a.record.startedAt);
}

/** The file's text when it is a regular file owned by `uid` (opened without following a symlink, never blocking on a FIFO), else undefined. */
async function readOwnedFile(file: string, uid: number): Promise<string | undefined> {
  const fh = await fsp.open(file, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0)).catch(() => undefined);
  if (!fh) return undefined;
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.uid !== uid || st.size > 64 * 1024) return undefined;
    return await fh.readFile('utf8');
  } finally {
    await fh.close();
  }
}

/** Expands `${workspaceFolder}` in `routelens.pathMappings` ({ "/app": "${workspaceFolder}" }). */
export function resolvePathMappings(setting: unknown, workspaceFolder: string | undefined): PathMapping[] {
  if (!setting || typeof setting !== 'object') return [];
  const out: PathMapping[] = [];
  for (const [remote, localRaw] of Object.entries(setting as Record<string, unknown>)) {
    if (typeof localRaw !== 'string' || !remote) continue;
    if (localRaw.includes('${workspaceFolder}') && !workspaceFolder) continue;
    out.push({ remote: trimSlash(remote), local: trimSlash(localRaw.split('${workspaceFolder}').join(workspaceFolder ?? '')) });
  }
  // Longest prefix first, so /app/api wins over /app.
  return out.sort((a, b) => b.remote.length - a.remote.length);
}

function trimSlash(p: string): string {
  return p.length > 1 ? p.replace(/[\\/]+$/, '') : p;
}

/** Maps a path the agent reported to this machine; unchanged when no mapping applies. */
export function mapRemotePath(path: string, mappings: readonly PathMapping[]): string {
  for (const m of mappings) {
    if (path === m.remote) return m.local;
    if (path.startsWith(m.remote + '/')) return m.local + sep + path.slice(m.remote.length + 1).split('/').join(sep);
  }
  return path;
}

export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!!rel && !rel.startsWith('..') && !isAbsolute(rel));
}

/** Agents whose (mapped) cwd is inside one of the workspace folders; all agents when no folder is open. */
export function filterByWorkspace(agents: DiscoveredAgent[], folders: readonly string[], mappings: readonly PathMapping[]): DiscoveredAgent[] {
  if (!folders.length) return agents;
  return agents.filter((a) => folders.some((f) => isInside(mapRemotePath(a.record.cwd, mappings), f)));
}

/** Keeps the newest record per key (an app restarted before its old file was removed). */
export function newestPerKey(agents: DiscoveredAgent[]): DiscoveredAgent[] {
  const seen = new Map<string, DiscoveredAgent>();
  for (const a of agents) {
    const prev = seen.get(a.key);
    if (!prev || a.record.startedAt > prev.record.startedAt) seen.set(a.key, a);
  }
  return [...seen.values()];
}

export interface WatcherOptions extends ReadOptions {
  /** Rescan period as a safety net for missed fs events (and a dir created later). */
  pollMs?: number;
  /** Coalesces bursts of fs events. */
  debounceMs?: number;
}

/**
 * Watches the discovery directory and reports the current list on every change.
 * One fs watcher, one poll timer, one debounce timer at most; close() clears them.
 */
export class DiscoveryWatcher {
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private closed = false;
  private last = '';
  private agents: DiscoveredAgent[] = [];
  private readonly listeners = new Set<(agents: DiscoveredAgent[]) => void>();

  constructor(
    readonly dir: string,
    private readonly options: WatcherOptions = {},
  ) {}

  get current(): DiscoveredAgent[] {
    return this.agents;
  }

  onChange(listener: (agents: DiscoveredAgent[]) => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  start(): void {
    if (this.closed || this.poll) return;
    this.tryWatch();
    this.poll = setInterval(() => {
      if (!this.watcher) this.tryWatch();
      void this.rescan();
    }, this.options.pollMs ?? 5000);
    this.poll.unref();
    void this.rescan();
  }

  /** Reads the directory now and notifies listeners when the list changed. */
  async rescan(): Promise<DiscoveredAgent[]> {
    const agents = await readDiscovery(this.dir, this.options);
    if (this.closed) return agents;
    const sig = JSON.stringify(agents.map((a) => [a.file, a.record.pid, a.record.port, a.record.token, a.record.startedAt]));
    this.agents = agents;
    if (sig !== this.last) {
      this.last = sig;
      for (const l of [...this.listeners]) l(agents);
    }
    return agents;
  }

  private tryWatch(): void {
    try {
      this.watcher = watch(this.dir, { persistent: false }, () => this.schedule());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // directory does not exist yet: the poll retries
    }
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.rescan();
    }, this.options.debounceMs ?? 100);
    this.debounce.unref();
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.poll = this.debounce = undefined;
    this.listeners.clear();
  }
}
