/**
 * The history: per-route figures per minute on disk across restarts
 * (recorder.ts → store.ts), the answers to `history.get`, and the live
 * figures against a baseline (`baseline.compare`, `baseline.set`). See
 * docs/history.md.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BaselineComparison, type BaselineDelta, type CommandArgs, type CommitMarker, type HistoryAnswer, type HistoryPoint, type HistoryResolution, ProtocolError } from '../../protocol';
import type { Clock } from '../internal';
import type { Diagnostics } from '../log';
import { quantile } from '../metrics/sketch';
import { baselinePath, readBaseline } from './baseline';
import { type Side, compareSides } from './compare';
import { GitWatcher } from './git';
import type { ResolvedHistory } from './options';
import { HistoryRecorder, RECENT_MINUTES } from './recorder';
import { type Figures, emptyFigures, mergeFigures } from './sketch';
import { DAY_MS, HOUR_MS, HistoryStore, MINUTE_MS, PERIOD_MS, type Period, mergePeriods } from './store';

export { resolveHistory, type HistoryOptions, type ResolvedHistory } from './options';

/** history.get without `from`: the last day. */
const DEFAULT_SPAN_MS = DAY_MS;
/** The default branch's figures of at most this long ago form the baseline. */
const BRANCH_BASELINE_MS = 7 * DAY_MS;
/** Where the chosen baseline file is remembered across restarts. */
const CHOICE_FILE = 'baseline.json';

export interface HistoryDeps {
  clock?: Clock;
  diag: Diagnostics;
  flushMs?: number;
  maintainMs?: number;
}

/** The resolution that fits a span: minutes up to 6 hours, hours up to 14 days, then days. */
export function fitResolution(spanMs: number): HistoryResolution {
  if (spanMs <= 6 * HOUR_MS) return 'minute';
  if (spanMs <= 14 * DAY_MS) return 'hour';
  return 'day';
}

export class History {
  readonly store: HistoryStore;
  readonly recorder: HistoryRecorder;
  private readonly git: GitWatcher;
  private readonly clock: Clock;
  private readonly cwd: string;
  /** undefined: not read yet; null: the default branch; else the file. */
  private baseline: { file: string; routes: Map<string, Side> } | null | undefined;

  constructor(config: ResolvedHistory, deps: HistoryDeps) {
    this.clock = deps.clock ?? Date.now;
    this.cwd = config.cwd;
    this.store = new HistoryStore(config);
    this.git = new GitWatcher(config.cwd);
    this.recorder = new HistoryRecorder({ store: this.store, git: this.git, clock: this.clock, diag: deps.diag, flushMs: deps.flushMs, maintainMs: deps.maintainMs });
  }

  /** One request or custom timing's sample (see HistoryRecorder.add). */
  add(endpointId: string, durationMs: number, isError: boolean, now: number): void {
    this.recorder.add(endpointId, durationMs, isError, now);
  }

  /** A sampled answer's URL for the endpoint's recorded paths (see HistoryRecorder.addPath). */
  addPath(endpointId: string, url: string, now: number): boolean {
    return this.recorder.addPath(endpointId, url, now);
  }

  async get(args: CommandArgs<'history.get'>): Promise<HistoryAnswer> {
    const to = args.to ?? this.clock();
    const from = args.from ?? to - DEFAULT_SPAN_MS;
    if (from > to) throw new ProtocolError('ERR_BAD_ARGS', 'from is after to');
    const resolution = args.resolution ?? fitResolution(to - from);
    await this.recorder.flush();
    const periods = (await this.store.read(from, to, args.endpoint)).concat(this.unwritten(from, to, args.endpoint));
    const fine = mergePeriods(periods, MINUTE_MS);
    const recorded = await this.recorder.recordedPaths(args.endpoint);
    return { endpoint: args.endpoint, resolution, from, to, points: points(mergePeriods(fine, PERIOD_MS[resolution]), args.endpoint), commits: markers(fine), ...(recorded.length ? { paths: recorded } : {}) };
  }

  /** The live figures (this run's latest minutes) against the baseline. */
  async compare(): Promise<BaselineComparison> {
    const now = this.clock();
    const since = Math.floor(Math.max(this.recorder.startedAt, now - RECENT_MINUTES * MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
    const head = perEndpoint(this.recorder.recent(since));
    const chosen = await this.chosenBaseline();
    let base: Map<string, Side>;
    let name: string;
    if (chosen) {
      base = chosen.routes;
      name = chosen.file;
    } else {
      name = await this.git.defaultBranch();
      const before = Math.floor(this.recorder.startedAt / MINUTE_MS) * MINUTE_MS - 1;
      const periods = await this.store.read(now - BRANCH_BASELINE_MS, before);
      base = perEndpoint(periods.filter((p) => p.git?.branch === name));
    }
    const ids = [...new Set([...head.keys(), ...base.keys()])].sort();
    const endpoints: BaselineDelta[] = ids.map((id) => compareSides(id, base.get(id), head.get(id)));
    return { source: chosen ? 'file' : 'branch', name, endpoints };
  }

  /** Compares with a saved baseline file from now on (remembered across restarts), or (no file) with the default branch. */
  async setBaseline(file: string | undefined): Promise<BaselineComparison> {
    if (file === undefined) this.baseline = null;
    else this.baseline = { file, routes: await readBaseline(baselinePath(this.cwd, file), file) };
    await mkdir(this.store.dir, { recursive: true })
      .then(() => writeFile(join(this.store.dir, CHOICE_FILE), JSON.stringify({ file: file ?? null }) + '\n'))
      .catch(() => undefined); // not remembered across restarts, still used in this one
    return this.compare();
  }

  close(): Promise<void> {
    return this.recorder.close();
  }

  /** The baseline file chosen by baseline.set (in this run or an earlier one); null = the default branch. */
  private async chosenBaseline(): Promise<{ file: string; routes: Map<string, Side> } | null> {
    if (this.baseline !== undefined) return this.baseline;
    try {
      const saved = JSON.parse(await readFile(join(this.store.dir, CHOICE_FILE), 'utf8')) as { file?: unknown };
      if (typeof saved.file === 'string') return (this.baseline = { file: saved.file, routes: await readBaseline(baselinePath(this.cwd, saved.file), saved.file) });
    } catch {
      // No choice saved, or the file is gone: the default branch.
    }
    return (this.baseline = null);
  }

  /** What the recorder holds that the store does not have yet. */
  private unwritten(from: number, to: number, endpoint: string): Period[] {
    return this.recorder.unwritten().filter((p) => p.t + MINUTE_MS > from && p.t <= to && p.endpoints.has(endpoint)).map((p) => ({ ...p, endpoints: new Map([[endpoint, p.endpoints.get(endpoint)!]]) }));
  }
}

/** One point per period start: every git state's figures of that period merged; the git state with the most requests. */
function points(periods: Period[], endpoint: string): HistoryPoint[] {
  const out: HistoryPoint[] = [];
  let acc: Figures | undefined;
  let point: HistoryPoint | undefined;
  let gitCount = -1;
  const finish = () => {
    if (!point || !acc) return;
    point.count = acc.count;
    point.errors = acc.errors;
    for (const [k, q] of [['p50', 0.5], ['p95', 0.95], ['p99', 0.99]] as const) {
      const v = quantile(acc.sketch, q);
      if (v !== undefined) point[k] = v;
    }
    out.push(point);
  };
  for (const p of periods) {
    const f = p.endpoints.get(endpoint);
    if (!f || f.count === 0) continue;
    if (!point || point.t !== p.t) {
      finish();
      point = { t: p.t, count: 0, errors: 0 };
      acc = emptyFigures();
      gitCount = -1;
    }
    mergeFigures(acc!, f);
    if (p.git && f.count > gitCount) {
      point.git = p.git;
      gitCount = f.count;
    }
  }
  finish();
  return out;
}

/** Where the commit changed from one period to the next. */
function markers(periods: Period[]): CommitMarker[] {
  const out: CommitMarker[] = [];
  let last: string | undefined;
  for (const p of periods) {
    if (!p.git) continue;
    if (last !== undefined && p.git.commit !== last) out.push({ t: p.t, ...p.git });
    last = p.git.commit;
  }
  return out;
}

/** Each endpoint's figures over all the periods. */
function perEndpoint(periods: Period[]): Map<string, Side> {
  const out = new Map<string, Side>();
  for (const p of periods) {
    for (const [id, f] of p.endpoints) {
      let acc = out.get(id) as Figures | undefined;
      if (!acc) out.set(id, (acc = emptyFigures()));
      mergeFigures(acc, f);
    }
  }
  return out;
}
