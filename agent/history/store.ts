/**
 * The history store: plain append-only files in one directory, no server, no
 * native module. See docs/history.md for the why and the format.
 *
 *   m-<day>-<pid>-<random>.jsonl   minutes, one file per writer per UTC day
 *   h-<day>.jsonl                  that day's hours (a rollup of its minutes)
 *   d-<day>.jsonl                  that day's total (a rollup of its hours)
 *
 * `<day>` is the start of the UTC day (epoch ms). The file names are the
 * index: a read opens only the files of the days it covers. Each line is one
 * period under one git state: `{"t":start,"g":{"c":commit,"b":branch,"d":0|1},
 * "e":{"GET /a":[count,errors,zero,key,n,Δkey,n,…]}}`. Every writer appends to
 * its own file, so cluster workers and overlapping restarts never interleave;
 * a read merges every file's lines of the same period. A rollup writes its
 * file whole (temporary name, then rename) before deleting its inputs; a read
 * ignores finer files of a day that has a coarser one, so an interrupted
 * rollup counts nothing twice. A line that does not parse (garbage, a
 * half-written last line) and a file that cannot be read are skipped.
 *
 *   paths.json                     recorded request paths per route (paths.ts),
 *                                  merged with the file and replaced whole by each write
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GitState, HistoryResolution } from '../../protocol/history';
import { type Figures, decodeFigures, emptyFigures, encodeFigures, mergeFigures } from './sketch';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const PERIOD_MS: Record<HistoryResolution, number> = { minute: MINUTE_MS, hour: HOUR_MS, day: DAY_MS };
/** Minutes are rolled up to hours once their whole day is this many days old. */
export const MINUTE_DAYS = 2;
/** Hours are rolled up to days once their day is this many days old. */
export const HOUR_DAYS = 30;
/** A maintenance lock older than this is taken over (its holder died). */
const STALE_LOCK_MS = 10 * MINUTE_MS;
const LOCK = 'maintain.lock';
/** The recorded request paths (agent/history/paths.ts), replaced whole by each write. */
export const PATHS_FILE = 'paths.json';
/** A paths file larger than this is not read: no agent writes one that large. */
const MAX_PATHS_BYTES = 4 * 1024 * 1024;

const PREFIX: Record<HistoryResolution, string> = { minute: 'm', hour: 'h', day: 'd' };
const NAME = /^([mhd])-(\d{1,15})(?:-\d+-[0-9a-f]+)?\.jsonl$/;

/** One period (a minute, an hour or a day) under one git state. */
export interface Period {
  t: number;
  git?: GitState;
  endpoints: Map<string, Figures>;
}

export interface Segment {
  name: string;
  resolution: HistoryResolution;
  day: number;
  bytes: number;
}

const RESOLUTION_OF: Record<string, HistoryResolution> = { m: 'minute', h: 'hour', d: 'day' };
/** Finer → coarser. */
const RANK: Record<HistoryResolution, number> = { minute: 0, hour: 1, day: 2 };

/** Each day's coarsest resolution held: a read uses only that, and finer files of the day are leftovers. */
function coarsestByDay(segments: Segment[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of segments) out.set(s.day, Math.max(out.get(s.day) ?? 0, RANK[s.resolution]));
  return out;
}

export const dayOf = (t: number): number => Math.floor(t / DAY_MS) * DAY_MS;
const gitKey = (g: GitState | undefined): string => (g ? `${g.commit}\0${g.branch}\0${g.dirty ? 1 : 0}` : '');

export function encodePeriod(p: Period): string {
  const e: Record<string, number[]> = {};
  for (const [id, f] of p.endpoints) if (f.count > 0) e[id] = encodeFigures(f);
  const line: { t: number; g?: { c: string; b: string; d: 0 | 1 }; e: Record<string, number[]> } = { t: p.t, e };
  if (p.git) line.g = { c: p.git.commit, b: p.git.branch, d: p.git.dirty ? 1 : 0 };
  return JSON.stringify(line) + '\n';
}

/** A line back into a period (only `endpoint`'s figures when given); undefined when it is not one. */
export function decodePeriod(line: string, endpoint?: string): Period | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  const { t, g, e } = raw as { t?: unknown; g?: unknown; e?: unknown };
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t < 0 || e === null || typeof e !== 'object' || Array.isArray(e)) return undefined;
  const p: Period = { t, endpoints: new Map() };
  if (g !== undefined) {
    const { c, b, d } = (g ?? {}) as { c?: unknown; b?: unknown; d?: unknown };
    if (typeof c !== 'string' || typeof b !== 'string' || c.length > 64 || b.length > 500) return undefined;
    p.git = { commit: c, branch: b, dirty: d === 1 };
  }
  const entries = endpoint === undefined ? Object.entries(e) : Object.hasOwn(e, endpoint) ? [[endpoint, (e as Record<string, unknown>)[endpoint]] as const] : [];
  for (const [id, value] of entries) {
    const f = decodeFigures(value);
    if (f) p.endpoints.set(id, f);
  }
  return p;
}

/** Merges periods with the same start (after flooring to `periodMs`) and git state. */
export function mergePeriods(periods: Iterable<Period>, periodMs: number): Period[] {
  const byKey = new Map<string, Period>();
  for (const p of periods) {
    const t = Math.floor(p.t / periodMs) * periodMs;
    const key = `${t}\0${gitKey(p.git)}`;
    let into = byKey.get(key);
    if (!into) byKey.set(key, (into = { t, ...(p.git ? { git: p.git } : {}), endpoints: new Map() }));
    for (const [id, f] of p.endpoints) {
      let acc = into.endpoints.get(id);
      if (!acc) into.endpoints.set(id, (acc = emptyFigures()));
      mergeFigures(acc, f);
    }
  }
  return [...byKey.values()].sort((a, b) => a.t - b.t);
}

export interface StoreOptions {
  dir: string;
  maxBytes: number;
  /** Written with `*` when the directory is first created (the default `.routelens/`). */
  gitignoreDir?: string;
}

export class HistoryStore {
  readonly dir: string;
  readonly maxBytes: number;
  private readonly gitignoreDir: string | undefined;
  private readonly writerId = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private prepared: Promise<void> | undefined;

  constructor(opts: StoreOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes;
    this.gitignoreDir = opts.gitignoreDir;
  }

  /** This writer's minute file of the day of `t`. */
  segmentName(t: number): string {
    return `m-${dayOf(t)}-${this.writerId}.jsonl`;
  }

  /** Appends minutes to this writer's files (one per day they fall in). Rejects when the disk refuses. */
  async append(periods: Period[]): Promise<void> {
    if (periods.length === 0) return;
    await (this.prepared ??= this.prepare());
    const byFile = new Map<string, string>();
    for (const p of periods) {
      const name = this.segmentName(p.t);
      byFile.set(name, (byFile.get(name) ?? '') + encodePeriod(p));
    }
    for (const [name, text] of byFile) await appendFile(join(this.dir, name), text);
  }

  /** The paths file's text; '' when it is missing, unreadable or too large. Never rejects. */
  async readPaths(): Promise<string> {
    const file = join(this.dir, PATHS_FILE);
    const s = await stat(file).catch(() => undefined);
    if (!s?.isFile() || s.size > MAX_PATHS_BYTES) return '';
    return readFile(file, 'utf8').catch(() => '');
  }

  /** Replaces the paths file whole: written under a temporary name, then renamed, so a reader sees the old file or the new one. */
  async writePaths(text: string): Promise<void> {
    await (this.prepared ??= this.prepare());
    const file = join(this.dir, PATHS_FILE);
    const tmp = `${file}.${this.writerId}.tmp`;
    try {
      await writeFile(tmp, text);
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  private async prepare(): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      if (this.gitignoreDir) await writeFile(join(this.gitignoreDir, '.gitignore'), '*\n', { flag: 'wx' }).catch(() => undefined);
    } catch (err) {
      this.prepared = undefined; // tried again at the next write
      throw err;
    }
  }

  /** The segment files, by the index their names carry (unreadable directory: none). */
  async segments(): Promise<Segment[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: Segment[] = [];
    for (const name of names) {
      const m = NAME.exec(name);
      if (!m) continue;
      const s = await stat(join(this.dir, name)).catch(() => undefined);
      if (s?.isFile()) out.push({ name, resolution: RESOLUTION_OF[m[1]!]!, day: Number(m[2]), bytes: s.size });
    }
    return out;
  }

  /**
   * Every period between `from` and `to` (inclusive of the periods they touch), at the finest
   * resolution held for each day, unmerged; with `endpoint`, only that endpoint's figures (lines
   * without it are skipped before parsing).
   */
  async read(from: number, to: number, endpoint?: string): Promise<Period[]> {
    const all = await this.segments();
    const coarsest = coarsestByDay(all);
    const needle = endpoint === undefined ? undefined : JSON.stringify(endpoint);
    const out: Period[] = [];
    for (const s of all) {
      if (s.day + DAY_MS <= from || s.day > to || RANK[s.resolution] !== coarsest.get(s.day)) continue;
      const text = await readFile(join(this.dir, s.name), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (line === '' || (needle !== undefined && !line.includes(needle))) continue;
        const p = decodePeriod(line, endpoint);
        if (p && p.t + PERIOD_MS[s.resolution] > from && p.t <= to && p.endpoints.size > 0) out.push(p);
      }
    }
    return out.sort((a, b) => a.t - b.t);
  }

  /**
   * Rolls old minutes up to hours and old hours up to days, then deletes the oldest files until
   * the store fits `maxBytes` (this writer's current file excepted). One process at a time (a
   * lock file); another process's maintenance in progress makes this one a no-op.
   */
  async maintain(now: number): Promise<void> {
    const lock = join(this.dir, LOCK);
    if (!(await this.takeLock(lock, now))) return;
    try {
      await this.rollUp(now);
      await this.prune(now);
    } finally {
      await rm(lock, { force: true }).catch(() => undefined);
    }
  }

  private async takeLock(lock: string, now: number): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(lock, 'wx');
        await fh.writeFile(`${process.pid}\n`).finally(() => fh.close());
        return true;
      } catch {
        const s = await stat(lock).catch(() => undefined);
        if (!s || now - s.mtimeMs < STALE_LOCK_MS) return false;
        await rm(lock, { force: true }).catch(() => undefined);
      }
    }
    return false;
  }

  private async rollUp(now: number): Promise<void> {
    const days = new Map<number, Segment[]>();
    for (const s of await this.segments()) days.set(s.day, [...(days.get(s.day) ?? []), s]);
    for (const [day, files] of [...days].sort((a, b) => a[0] - b[0])) {
      const age = now - (day + DAY_MS);
      const coarsest = Math.max(...files.map((f) => RANK[f.resolution]));
      if (age >= HOUR_DAYS * DAY_MS && coarsest < RANK.day) await this.rollDay(day, files, coarsest === RANK.hour ? 'hour' : 'minute', 'day');
      else if (age >= MINUTE_DAYS * DAY_MS && coarsest === RANK.minute) await this.rollDay(day, files, 'minute', 'hour');
    }
    // Leftovers of an interrupted rollup: finer files of a day that has a coarser one.
    const current = await this.segments();
    const coarsest = coarsestByDay(current);
    for (const s of current) if (RANK[s.resolution] < coarsest.get(s.day)!) await rm(join(this.dir, s.name), { force: true }).catch(() => undefined);
  }

  /** Writes the day's `to` file from its `from` files (whole, then renamed), then deletes them. */
  private async rollDay(day: number, files: Segment[], from: HistoryResolution, to: HistoryResolution): Promise<void> {
    const inputs = files.filter((f) => f.resolution === from);
    const periods: Period[] = [];
    for (const f of inputs) {
      const text = await readFile(join(this.dir, f.name), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        const p = line === '' ? undefined : decodePeriod(line);
        if (p) periods.push(p);
      }
    }
    const target = join(this.dir, `${PREFIX[to]}-${day}.jsonl`);
    const tmp = `${target}.${this.writerId}.tmp`;
    await writeFile(tmp, mergePeriods(periods, PERIOD_MS[to]).map(encodePeriod).join(''));
    await rename(tmp, target);
    for (const f of inputs) await rm(join(this.dir, f.name), { force: true }).catch(() => undefined);
  }

  /** Deletes whole files, oldest day first (coarsest first within a day), until the total fits. */
  private async prune(now: number): Promise<void> {
    const segments = await this.segments();
    let total = segments.reduce((n, s) => n + s.bytes, 0);
    if (total <= this.maxBytes) return;
    const own = this.segmentName(now);
    segments.sort((a, b) => a.day - b.day || RANK[b.resolution] - RANK[a.resolution]);
    for (const s of segments) {
      if (total <= this.maxBytes) break;
      if (s.name === own) continue;
      await rm(join(this.dir, s.name), { force: true }).catch(() => undefined);
      total -= s.bytes;
    }
  }
}
