/**
 * `npm run bench -- heap` (options in bench/lib/args.ts): where the agent's main-thread heap
 * goes. One server child per row (bench/server.ts with `--expose-gc` and BENCH_ROUTES more
 * routes), each read idle and after each checkpoint's requests over those routes (one in ten to
 * a different unmatched path), after full collections; the rows side by side in one run, each
 * against bare Express. `--features` adds rows with one feature switched off at a time (spans,
 * history, the local server), so the difference to `agent` is that feature's share; `--snapshot`
 * writes a heap snapshot of every row at its last reading and prints what the agent adds over
 * bare, by constructor (self sizes). `--base FILE` adds the agent bundled from an earlier commit
 * (`save-base`), so before and after are measured side by side. Prints, never asserts.
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { startServer, stopServer } from './http';
import { agentSource, loadAgent, prepareAgent } from './lib/adapter';
import type { BenchInvocation } from './lib/args';
import { type PlannedRequest, buildRequest } from './lib/client';
import { type HeapSnapshot, eachNode } from './lib/heap-snapshot';
import { mb, mbSpread, median, table } from './lib/stats';
import { type Variant, specOf } from './lib/variants';

export type HeapOptions = Extract<BenchInvocation, { command: 'heap' }>['options'];

interface Row {
  label: string;
  variant: Variant;
  env?: Record<string, string>;
  help: string;
}

const ROWS: readonly Row[] = [
  { label: 'bare', variant: 'bare', help: 'Express alone' },
  { label: 'agent', variant: 'agent', help: "createAgent()'s defaults, a stream client attached" },
  { label: 'agent, back end in the main thread', variant: 'agent', env: { ROUTELENS_WORKER: '0' }, help: "agent with ROUTELENS_WORKER=0: the back end in the app's main thread (by default it is in a worker thread, whose heap is not the main thread's)" },
];
const FEATURE_ROWS: readonly Row[] = [
  { label: 'spans off', variant: 'agent', env: { ROUTELENS_SPANS: '0' }, help: 'agent with ROUTELENS_SPANS=0' },
  { label: 'history off', variant: 'agent', env: { ROUTELENS_HISTORY: '0' }, help: 'agent with ROUTELENS_HISTORY=0' },
  { label: 'no server', variant: 'agent-metrics', help: 'the middleware with `server: false` (no local server, no stream)' },
  { label: 'idle agent', variant: 'agent-idle', help: 'createAgent() and no middleware' },
];

const log = (line: string) => process.stdout.write(line + '\n');

/**
 * Requests over `routes` routes (`/r<i>/:id`, every id different) and one unmatched path in ten
 * (`/x<n>/<n>`, every one different), so the figures say whether memory stays bounded whatever
 * the URLs. `from` continues the numbering of an earlier plan.
 */
export function manyRoutesPlan(port: number, routes: number, requests: number, from = 0): PlannedRequest[] {
  const plan: PlannedRequest[] = [];
  for (let i = from; i < from + requests; i++) {
    const path = i % 10 === 9 ? `/x${i}/${i}` : `/r${(i * 7919) % routes}/${i}`;
    plan.push(buildRequest('GET', path, port, 'many'));
  }
  return plan;
}

/** One row's readings, bytes: index 0 idle, then after each checkpoint. */
type Readings = number[];

/** The main thread's readings, and the agent's worker thread's heap at the same moments (when it runs one). */
interface RowReadings {
  main: Readings;
  worker: Array<number | undefined>;
}

async function measureRow(row: Row, routes: number, checkpoints: readonly number[], snapshot: string | undefined): Promise<RowReadings> {
  const total = checkpoints[checkpoints.length - 1]!;
  const server = await startServer(row.variant, { connections: 8 }, specOf(row.variant).stream === true, {
    nodeArgs: ['--expose-gc'],
    env: { BENCH_ROUTES: String(routes), BENCH_SOURCE_MAPS: '0', ...row.env },
    plan: (port) => manyRoutesPlan(port, routes, total),
  });
  try {
    const out: RowReadings = { main: [], worker: [] };
    const read = async (snapshotFile?: string) => {
      const m = await server.child.ask({ type: 'heap', snapshot: snapshotFile }, 'heap', 300_000);
      out.main.push(m.heapUsed + m.arrayBuffers);
      out.worker.push(m.worker);
    };
    await read();
    let done = 0;
    for (const [i, c] of checkpoints.entries()) {
      const r = await server.load.run({ durationMs: 600_000, maxRequests: c - done });
      if (r.errors > 0) throw new Error(`${row.label}: ${r.errors} failed requests`);
      done = c;
      const last = i === checkpoints.length - 1;
      await read(last ? snapshot : undefined);
    }
    return out;
  } finally {
    await stopServer(server);
  }
}

export async function runHeapCommand(o: HeapOptions): Promise<void> {
  const bundleError = await prepareAgent();
  const { mod, error } = loadAgent();
  if (!mod) throw new Error(bundleError ?? error);
  const routes = o.routes;
  const checkpoints = [...new Set([o.checkpoint, o.requests])].filter((c) => c <= o.requests).sort((a, b) => a - b);
  const baseRow: Row[] = o.base ? [{ label: 'agent@base', variant: 'agent', env: { ROUTELENS_BENCH_AGENT: resolve(o.base) }, help: `agent, loaded from ${o.base} (save-base of an earlier commit)` }] : [];
  const rows = [...ROWS, ...baseRow, ...(o.features ? FEATURE_ROWS : [])];
  const snapDir = join(__dirname, 'results', 'heap');
  if (o.snapshot) {
    rmSync(snapDir, { recursive: true, force: true });
    mkdirSync(snapDir, { recursive: true });
  }
  log(`RouteLens heap: node ${process.version}, agent ${relative(process.cwd(), agentSource())}, ${routes} routes, readings idle and after ${checkpoints.join(', ')} requests, ${o.rounds} round(s)`);
  const all = new Map<string, Readings[]>(rows.map((r) => [r.label, []]));
  const workers = new Map<string, Array<Array<number | undefined>>>(rows.map((r) => [r.label, []]));
  for (let round = 0; round < o.rounds; round++) {
    // Alternate the order every round, so a drift of the machine hits every row alike.
    const order = round % 2 === 0 ? rows : [...rows].reverse();
    for (const row of order) {
      const file = o.snapshot && round === o.rounds - 1 ? join(snapDir, `${row.label.replace(/\W+/g, '-')}.heapsnapshot`) : undefined;
      const r = await measureRow(row, routes, checkpoints, file);
      all.get(row.label)!.push(r.main);
      workers.get(row.label)!.push(r.worker);
      const worker = r.worker.every((w) => w === undefined) ? '' : `; its worker ${r.worker.map((w) => (w === undefined ? '–' : mb(w))).join(' → ')}`;
      log(`  round ${round + 1} ${row.label}: ${r.main.map(mb).join(' → ')}${worker}`);
    }
  }
  report(rows, all, routes, checkpoints);
  reportWorkers(rows, workers, checkpoints);
  if (o.snapshot) {
    const bare = bySelfSize(join(snapDir, 'bare.heapsnapshot'));
    for (const row of rows) {
      if (row.label === 'bare') continue;
      log(`\n${row.label} − bare, after ${o.requests} requests: self size by constructor (heap snapshot; top ${o.top})`);
      printDiff(bySelfSize(join(snapDir, `${row.label.replace(/\W+/g, '-')}.heapsnapshot`)), bare, o.top);
    }
    log(`\nsnapshots in ${relative(process.cwd(), snapDir)} (open them in Chrome DevTools' Memory tab for retainers)`);
  }
}

function report(rows: readonly Row[], all: Map<string, Readings[]>, routes: number, checkpoints: readonly number[]): void {
  const bare = all.get('bare')!;
  const heads = ['row (− bare, median of rounds)', 'idle', ...checkpoints.map((c) => `after ${c}`), `per route, after ${checkpoints[checkpoints.length - 1]}`];
  const body: string[][] = [['bare (absolute)', ...bare[0]!.map((_, i) => mb(median(bare.map((r) => r[i]!))))]];
  for (const row of rows) {
    if (row.label === 'bare') continue;
    const runs = all.get(row.label)!;
    const cells: string[] = [];
    for (let i = 0; i <= checkpoints.length; i++) {
      const diffs = runs.map((r, k) => r[i]! - bare[k]![i]!);
      cells.push(mbSpread(diffs));
    }
    const last = checkpoints.length;
    const perRoute = median(runs.map((r, k) => (r[last]! - bare[k]![last]! - (r[0]! - bare[k]![0]!)) / routes));
    body.push([row.label, ...cells, `${(perRoute / 1024).toFixed(1)} kB`]);
  }
  log('\n' + table(heads, body));
  log('  main-thread heapUsed + arrayBuffers after 3 full collections (--expose-gc), one child per row and round; "per route" = (growth from idle, − bare\'s) / routes.');
  for (const row of rows) log(`  ${row.label}: ${row.help}`);
}

/** The agent's worker thread's own heap, per row that runs one: not in the main thread's figures, but the same process's memory. */
function reportWorkers(rows: readonly Row[], workers: Map<string, Array<Array<number | undefined>>>, checkpoints: readonly number[]): void {
  const body: string[][] = [];
  for (const row of rows) {
    const runs = workers.get(row.label)!;
    if (runs.every((r) => r.every((w) => w === undefined))) continue;
    const cells: string[] = [];
    for (let i = 0; i <= checkpoints.length; i++) {
      const values = runs.map((r) => r[i]).filter((w): w is number => w !== undefined);
      cells.push(values.length === 0 ? '–' : mbSpread(values));
    }
    body.push([row.label, ...cells]);
  }
  if (body.length === 0) return;
  log('\n' + table(["the agent's worker thread (its own heap)", 'idle', ...checkpoints.map((c) => `after ${c}`)], body));
  log("  the self sizes of the worker's heap snapshot, summed (another isolate: not in the main thread's figures above).");
}

/** Self size by node type and constructor name, from a .heapsnapshot. */
function bySelfSize(file: string): Map<string, { size: number; count: number }> {
  const out = new Map<string, { size: number; count: number }>();
  eachNode(JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshot, (type, name, selfSize) => {
    const key = type === 'object' || type === 'closure' || type === 'native' ? `${type} ${name.slice(0, 60)}` : type === 'hidden' || type === 'code' || type === 'array' ? `${type} ${name.slice(0, 40)}` : `(${type})`;
    const e = out.get(key) ?? { size: 0, count: 0 };
    e.size += selfSize;
    e.count++;
    out.set(key, e);
  });
  return out;
}

function printDiff(row: Map<string, { size: number; count: number }>, bare: Map<string, { size: number; count: number }>, top: number): void {
  const diffs = [...row].map(([k, v]) => ({ k, size: v.size - (bare.get(k)?.size ?? 0), count: v.count - (bare.get(k)?.count ?? 0) }));
  diffs.sort((a, b) => b.size - a.size);
  const total = diffs.reduce((s, d) => s + d.size, 0);
  log(table(['constructor', 'bytes', 'objects'], [...diffs.slice(0, top).map((d) => [d.k, mb(d.size), String(d.count)]), ['(all)', mb(total), '']]));
}
