/**
 * The history recorder: per endpoint and per minute, count, errors and a
 * DDSketch, fed one sample at a time by `add()` wherever samples are
 * aggregated (off the request path: the metrics' drain), independent of the
 * thread it runs on. `flush()` seals the minutes that ended and appends them to
 * the store; a minute timer (unref()'d) flushes, and `close()` writes the
 * current, unfinished minute too (the next process may add to the same minute:
 * a read merges both). The latest minutes stay in memory for the live side
 * of a baseline comparison. A failed write drops that batch with one warning
 * and never reaches the app.
 */
import type { Clock } from '../internal';
import type { Diagnostics } from '../log';
import type { GitWatcher } from './git';
import { RecordedPaths, decodePaths, encodePaths } from './paths';
import { type Figures, emptyFigures } from './sketch';
import { HOUR_MS, type HistoryStore, MINUTE_MS, type Period } from './store';

/** Minutes kept in memory for the live figures of a comparison. */
export const RECENT_MINUTES = 15;
/** Endpoints recorded per minute at most (a flood of unmatched paths cannot grow a minute without bound). */
const MAX_ENDPOINTS_PER_MINUTE = 5000;
/** Minutes waiting for the disk at most (a full disk for hours): the oldest are dropped. */
const MAX_PENDING = 120;
/** How often the recorded paths are written when they changed (ms). */
const PATHS_WRITE_MS = 5000;
/** The first read of the git state, after start-up (ms). */
const GIT_DELAY_MS = 2000;

export interface RecorderOptions {
  store: HistoryStore;
  git?: GitWatcher;
  clock: Clock;
  diag: Diagnostics;
  /** How often minutes are written (ms); default one minute, 0 = only by flush() and close(). */
  flushMs?: number;
  /** How often old data is rolled up and pruned (ms); default one hour, 0 = only by maintain(). */
  maintainMs?: number;
  /** How often changed recorded paths are written (ms); default 5 s (0 with `flushMs: 0`), 0 = only by savePaths() and close(). */
  pathsMs?: number;
}

export class HistoryRecorder {
  readonly startedAt: number;
  private minute = -1;
  private current = new Map<string, Figures>();
  private pending: Period[] = [];
  /** Batches being appended: still unwritten for a reader until the append settles. */
  private readonly inFlight = new Set<Period[]>();
  private readonly recentMinutes: Period[] = [];
  private writing: Promise<void> = Promise.resolve();
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  /** The latest read of the git state (minutes are tagged with it when sealed). */
  private gitRead: Promise<unknown> = Promise.resolve();
  private gitKnown = false;
  /** Concrete request paths per route (paths.ts): read from the store at start, written when they change. */
  private readonly paths = new RecordedPaths();
  private readonly pathsLoaded: Promise<void>;
  private pathsWriting: Promise<void> = Promise.resolve();

  constructor(private readonly o: RecorderOptions) {
    this.startedAt = o.clock();
    this.pathsLoaded = o.store
      .readPaths()
      .then((text) => this.paths.merge(decodePaths(text)))
      .catch((err: unknown) => o.diag.failure('history.readPaths', err));
    // The first read (and its one `git status`) waits until start-up is over; a flush before then reads first.
    const firstGit = setTimeout(() => void this.refreshGit(), GIT_DELAY_MS);
    firstGit.unref();
    this.timers.push(firstGit);
    const every = (ms: number, fn: () => Promise<void>) => {
      if (ms <= 0) return;
      const t = setInterval(() => void fn(), ms);
      t.unref();
      this.timers.push(t);
    };
    every(o.flushMs ?? MINUTE_MS, async () => {
      await this.refreshGit();
      await this.flush();
    });
    every(o.maintainMs ?? HOUR_MS, () => this.maintain());
    every(o.pathsMs ?? (o.flushMs === 0 ? 0 : PATHS_WRITE_MS), () => this.savePaths());
    if ((o.maintainMs ?? HOUR_MS) > 0) {
      const first = setTimeout(() => void this.maintain(), 10_000);
      first.unref();
      this.timers.push(first);
    }
  }

  /** One sample (ms). Cheap: a Map lookup and a sketch insert. Never throws. */
  add(endpointId: string, durationMs: number, isError: boolean, now: number): void {
    if (this.closed) return;
    try {
      const m = Math.floor(now / MINUTE_MS) * MINUTE_MS;
      if (m > this.minute) {
        this.seal();
        this.minute = m;
      }
      let f = this.current.get(endpointId);
      if (!f) {
        if (this.current.size >= MAX_ENDPOINTS_PER_MINUTE) return;
        this.current.set(endpointId, (f = emptyFigures()));
      }
      f.count++;
      if (isError) f.errors++;
      f.sketch.accept(durationMs > 0 && Number.isFinite(durationMs) ? durationMs : 0);
    } catch (err) {
      this.o.diag.failure('history.add', err);
    }
  }

  /**
   * A sampled answer's URL for the endpoint's recorded paths (on the request path, at the rate
   * the metrics sample): true when its path was new and there is room for more. Never throws.
   */
  addPath(endpointId: string, url: string, now: number): boolean {
    if (this.closed) return false;
    try {
      return this.paths.add(endpointId, url, now);
    } catch (err) {
      this.o.diag.failure('history.addPath', err);
      return false;
    }
  }

  /** One endpoint's recorded paths (this process's and those in the store), newest seen first. */
  async recordedPaths(endpointId: string): Promise<string[]> {
    await this.pathsLoaded;
    return this.paths.get(endpointId);
  }

  /** Writes the recorded paths if they changed: merged with the file (other processes' paths), then the file replaced whole. Never rejects. */
  savePaths(): Promise<void> {
    if (!this.paths.changed) return this.pathsWriting;
    return (this.pathsWriting = this.pathsWriting.then(async () => {
      await this.pathsLoaded;
      if (!this.paths.changed) return;
      this.paths.changed = false;
      try {
        this.paths.merge(decodePaths(await this.o.store.readPaths()));
        await this.o.store.writePaths(encodePaths(this.paths));
      } catch (err) {
        this.paths.changed = true; // tried again at the next write
        this.o.diag.warnOnce('ROUTELENS_WARN_HISTORY', `the recorded paths could not be written to ${this.o.store.dir} (${(err as { code?: string }).code ?? String(err)}); writing is retried`);
      }
    }));
  }

  /** Writes the minutes that ended (all of them, the current one included, with `all`). Never rejects. */
  async flush(all = false): Promise<void> {
    await (this.gitKnown ? this.gitRead : this.refreshGit());
    const now = this.o.clock();
    if (all || Math.floor(now / MINUTE_MS) * MINUTE_MS > this.minute) this.seal();
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return this.writing;
    // Minutes sealed before the first read of the git state finished take the state it found.
    const git = this.o.git?.current();
    if (git) for (const p of batch) p.git ??= git;
    this.inFlight.add(batch);
    this.writing = this.writing
      .then(() => this.o.store.append(batch))
      .catch((err: unknown) => {
        this.o.diag.warnOnce('ROUTELENS_WARN_HISTORY', `the history could not be written to ${this.o.store.dir} (${(err as { code?: string }).code ?? String(err)}): ${batch.length} minute(s) dropped; writing is retried every minute`);
      })
      .finally(() => this.inFlight.delete(batch));
    return this.writing;
  }

  /** Rolls up and prunes the store now. Never rejects. */
  async maintain(): Promise<void> {
    await this.o.store.maintain(this.o.clock()).catch((err: unknown) => this.o.diag.failure('history.maintain', err));
  }

  /** The in-memory minutes since `since` (the current one included), for the live figures. */
  recent(since: number): Period[] {
    const out = this.recentMinutes.filter((p) => p.t >= since);
    if (this.current.size > 0 && this.minute >= since) out.push(this.currentPeriod());
    return out;
  }

  /** The minutes not in the store yet: being written, waiting, and the current one. */
  unwritten(): Period[] {
    const out = [...this.inFlight].flat().concat(this.pending);
    if (this.current.size > 0) out.push(this.currentPeriod());
    return out;
  }

  /** Writes everything, stops the timers. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    await Promise.all([this.flush(true), this.savePaths()]);
    this.closed = true;
  }

  private async refreshGit(): Promise<void> {
    this.gitKnown = true;
    await (this.gitRead = this.o.git?.state() ?? Promise.resolve());
  }

  /** The minute being recorded, under the git state read last. */
  private currentPeriod(): Period {
    const git = this.o.git?.current();
    return { t: this.minute, ...(git ? { git } : {}), endpoints: this.current };
  }

  private seal(): void {
    if (this.current.size === 0) return;
    const p = this.currentPeriod();
    this.current = new Map();
    this.pending.push(p);
    if (this.pending.length > MAX_PENDING) this.pending.shift();
    this.recentMinutes.push(p);
    while (this.recentMinutes.length > RECENT_MINUTES) this.recentMinutes.shift();
  }
}
