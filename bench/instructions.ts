/**
 * `npm run bench -- instructions`: CPU per request as instructions executed, counted by
 * valgrind's callgrind, so the figure does not move with the machine's load (the timed sections
 * swing by 5–20 % from run to run on a shared machine). Options in bench/lib/args.ts; the
 * arithmetic in bench/lib/callgrind.ts; what the figure leaves out in docs/performance.md.
 *
 * For each variant and repeat: the variant's server child (bench/server.ts, the same app,
 * routes, agent options and stream client as section 4) starts under
 * `valgrind --tool=callgrind --instr-atstart=no`, so nothing is counted until asked; the parent
 * sends `warmup` requests of the section-1 mix over `connections` keep-alive connections (1 by default; V8 tiers up),
 * waits until its CPU per second is at its idle level (the optimising compiles and GC work the
 * warm-up started have finished), switches instrumentation on (`callgrind_control -i on`), sends
 * `requests` more `rehearsals` times and settles again, all uncounted (zeroed: the clock-driven
 * code tiers up at the windows' pace, see measure()), waits `idle` seconds with no requests, dumps (periodic work: the
 * agent's timers, its stream), sends `requests` more, dumps again, sends the same requests
 * again paced to take `pace` times as long, dumps a third time, and stops the child.
 * Valgrind stretches wall time tens of times over, so work that runs by the clock (timers, a
 * client's deltas, the spans' per-second sampling) falls on many more requests than it does
 * natively. The two request windows, the same requests at two paces, tell it apart: instructions
 * = per request × requests + per second × wall time (callgrind.ts's perRequest); the figure at
 * N req/s spreads the second part over N requests a second. The child runs with
 * `--perf-basic-prof`, so the dumps' generated code is named by function (the attribution
 * tables). With BENCH_MARKS=1 the parent prints each phase's
 * start on stdout, beside the child's own output: `BENCH_MARKS=1 BENCH_NODE_ARGS='--trace-opt
 * --trace-deopt'` shows what V8 still compiles inside the windows.
 */
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { type Child, startServer, stopServer } from './http';
import { prepareAgent } from './lib/adapter';
import type { BenchInvocation } from './lib/args';
import { CATEGORIES, type Category, type FunctionCost, type PerRequest, THREADS, type ThreadKind, type Window, addCosts, byCategory, functionCosts, halfRange, idleRate, judgeInstructions, mean, namedCosts, perRequest, readPerfMap, readSummary, threadKind } from './lib/callgrind';
import { fmt, table } from './lib/stats';
import { type Variant, specOf } from './lib/variants';
import { STEADY_TARGETS } from './steady';

type InstructionOptions = Extract<BenchInvocation, { command: 'instructions' }>['options'];

const run = promisify(execFile);
const DIR = join(__dirname, 'results', 'callgrind');
/** V8 writes /tmp/perf-<pid>.map, naming its generated code (every tier) for the attribution tables. */
const NODE_FLAGS = ['--perf-basic-prof', '--interpreted-frames-native-stack'];
/** The agent's bundle: the main thread's index.js and its worker's worker.js. */
const BUNDLE_MARK = 'agent-bundle/';
const WORKER_MARK = 'agent-bundle/worker.js';
/** Settled: two seconds in a row with at most this much CPU per second (the optimising compiles and GC work the warm-up started have finished). */
const QUIET_CPU_US_PER_S = 150_000;
const SETTLE_MAX_S = 120;

interface Measured {
  variant: Variant;
  repeat: number;
  window: Window;
  per: PerRequest;
  /** Files kept for the attribution: the two dumps (one file per thread) and the perf map. */
  files: { requests: string[]; idle: string[]; paced: string[]; perfMap?: string };
  /** Self instructions by category: per request in the request window, per second in the idle one. */
  categories?: { requests: Record<Category, number>; idle: Record<Category, number> };
  /** Instructions by thread: per request in the request windows, per second in the idle one; at N/s from the two paces. */
  threads: { requests: Record<ThreadKind, number>; idle: Record<ThreadKind, number>; paced?: Record<ThreadKind, number>; atRate?: Record<ThreadKind, number> };
}

export async function runInstructions(o: InstructionOptions): Promise<void> {
  const log = (line: string) => process.stdout.write(line + '\n');
  if (spawnSync('valgrind', ['--version']).error || spawnSync('callgrind_control', ['--version']).error) {
    process.stderr.write('bench instructions: valgrind (with callgrind_control) is not installed; apt-get install valgrind\n');
    process.exitCode = 2;
    return;
  }
  const err = await prepareAgent();
  if (err) throw new Error(err);
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  const variants = o.variants as Variant[];
  log(`instructions per request under callgrind: ${variants.join(', ')}; ${o.repeats} repeat(s) of ${o.warmup} warm-up + ${o.requests} counted requests (section-1 mix, ${o.connections} connection(s)), then ${o.idle} s idle`);
  const all: Measured[] = [];
  for (let k = 1; k <= o.repeats; k++) {
    for (const v of variants) {
      const m = await measure(v, k, o);
      all.push(m);
      log(`  ${v} #${k}: ${fmt(m.per.gross / 1e6, 3)} M instructions/request gross, request path ${fmt(m.per.net / 1e6, 3)} M + periodic ${fmt(m.per.periodicPerSecond / 1e6, 2)} M/s (${o.pace > 1 ? 'two paces' : 'idle window'}); window ${fmt(m.window.seconds, 0)} s`);
    }
  }
  // Work left over from a warm-up only ever adds to an idle window: each variant's periodic rate is its lowest over the repeats,
  // without the window's GC (V8's memory reducer starts a major GC a few seconds after allocation stops: not periodic work).
  const periodic = (x: Measured) => idleRate(x.window) - (x.categories?.idle['V8 GC'] ?? 0);
  for (const m of all) m.per = perRequest(m.window, o.rate, Math.min(...all.filter((x) => x.variant === m.variant).map(periodic)));
  const json = { ...report(all, variants, o, log), threads: reportThreads(all, variants, o, log), categories: reportCategories(all, variants, log) };
  const agentRun = [...all].reverse().find((m) => m.variant === 'agent');
  const attribution = agentRun ? attribute(agentRun, o, log) : undefined;
  writeFileSync(o.out, JSON.stringify({ date: new Date().toISOString(), options: o, runs: all.map(({ files: _files, ...m }) => m), ...json, attribution }, null, 2));
  log(`\nresults: ${o.out}; dumps: ${DIR}`);
}

async function measure(variant: Variant, repeat: number, o: InstructionOptions): Promise<Measured> {
  const wrapper = ['valgrind', '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(DIR, 'cg.%p')}`, `--log-file=${join(DIR, 'valgrind.%p.log')}`];
  const server = await startServer(variant, { connections: o.connections }, specOf(variant).stream === true, { nodeArgs: NODE_FLAGS, wrapper: { argv: wrapper, readyTimeoutMs: 600_000 } });
  const pid = String(server.child.pid);
  const control = (...args: string[]) => run('callgrind_control', [...args, pid], { timeout: 120_000 });
  const send = async (n: number, rate?: number) => {
    const r = await server.load.run({ durationMs: 3_600_000, maxRequests: n, rate });
    if (r.errors > 0 || r.responses !== n) throw new Error(`${variant}: ${r.responses} of ${n} responses, ${r.errors} errors`);
  };
  let window: Window | undefined;
  try {
    const mark = (phase: string) => {
      if (process.env.BENCH_MARKS === '1') process.stdout.write(`\n@@@ ${variant} #${repeat}: ${phase} ${new Date().toISOString()}\n`);
    };
    mark('warmup');
    await send(o.warmup);
    mark('settle');
    await settle(server.child);
    // The rehearsal: the counted requests' worth under instrumentation, uncounted. Counting stretches wall time tens of
    // times over, so code that runs by the clock (timers, the agent's drains and batches) runs many more times per
    // request than in the fast warm-up, and V8 would otherwise still be tiering it up inside the windows.
    await control('-i', 'on');
    for (let i = 0; i < o.rehearsals; i++) {
      mark('rehearsal');
      await send(o.requests);
      await settle(server.child);
    }
    await control('-z');
    mark('idle window');
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, o.idle * 1000));
    await control('-d', 'idle');
    const t1 = performance.now();
    mark('request window');
    await send(o.requests);
    // The window ends when the dump is taken: work done while callgrind_control waited for it counts.
    await control('-d', 'requests');
    const t2 = performance.now();
    let t3 = t2;
    if (o.pace > 1) {
      // The same requests again, taking `pace` times as long: what grows with wall time is the clock's work (perRequest).
      mark('paced window');
      await send(o.requests, o.requests / (((t2 - t1) / 1000) * o.pace));
      await control('-d', 'paced');
      t3 = performance.now();
    }
    mark('end');
    await control('-i', 'off');
    window = {
      requests: o.requests,
      instructions: sumOf(dumpFiles(pid, 2)),
      seconds: (t2 - t1) / 1000,
      idleInstructions: sumOf(dumpFiles(pid, 1)),
      idleSeconds: (t1 - t0) / 1000,
      ...(o.pace > 1 ? { pacedInstructions: sumOf(dumpFiles(pid, 3)), pacedSeconds: (t3 - t2) / 1000 } : {}),
    };
  } finally {
    await stopServer(server);
    if (!window) rmSync(`/tmp/perf-${pid}.map`, { force: true });
  }
  const name = `${variant}-${repeat}`;
  // One file per thread: `<variant>-<repeat>.requests.cg-<thread>`, as callgrind numbers them (01 is the main thread).
  const keep = (part: number, label: string) =>
    dumpFiles(pid, part).map((f) => {
      const to = join(DIR, `${name}.${label}.cg${/-\d+$/.exec(f)?.[0] ?? ''}`);
      copyFileSync(f, to);
      return to;
    });
  const files = { requests: keep(2, 'requests'), idle: keep(1, 'idle'), paced: keep(3, 'paced'), perfMap: undefined as string | undefined };
  for (const f of readdirSync(DIR)) if (f.startsWith(`cg.${pid}`)) rmSync(join(DIR, f));
  const map = `/tmp/perf-${pid}.map`;
  if (existsSync(map)) {
    files.perfMap = join(DIR, `${name}.perf.map`);
    copyFileSync(map, files.perfMap);
    rmSync(map);
  }
  const categories = files.perfMap ? categorise(files, files.perfMap, window) : undefined;
  return { variant, repeat, window, per: perRequest(window, o.rate), files, categories, threads: byThread(files, window, o.rate) };
}

/** The files of one dump (`part`: 1 the idle window, 2 the request window, 3 the paced one), one per thread, in thread order. */
function dumpFiles(pid: string, part: number): string[] {
  const re = new RegExp(`^cg\\.${pid}\\.${part}(-\\d+)?$`);
  return readdirSync(DIR)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(DIR, f));
}

function sumOf(files: string[]): number {
  return files.reduce((sum, f) => sum + readSummary(readFileSync(f, 'utf8')), 0);
}

/** The costs of every thread of a dump, added up. */
function processCosts(files: string[]): Map<string, FunctionCost> {
  return files.reduce((all, f) => addCosts(all, functionCosts(readFileSync(f, 'utf8'))), new Map<string, FunctionCost>());
}

function byThread(files: Measured['files'], w: Window, rate: number): Measured['threads'] {
  const ranges = files.perfMap ? readPerfMap(readFileSync(files.perfMap, 'utf8')) : undefined;
  const read = (list: string[], per: number) => {
    const out = Object.fromEntries(THREADS.map((t) => [t, 0])) as Record<ThreadKind, number>;
    for (const f of list) {
      const text = readFileSync(f, 'utf8');
      const costs = functionCosts(text);
      let kind = threadKind(Number(/-(\d+)$/.exec(f)?.[1] ?? 1), costs);
      // Another thread running JavaScript that never ran the agent's worker bundle: tsx's module loader.
      if (kind === 'agent worker thread' && ranges && ![...namedCosts(costs, ranges).keys()].some((n) => n.includes(WORKER_MARK))) kind = 'other threads';
      out[kind] += readSummary(text) / per;
    }
    return out;
  };
  const requests = read(files.requests, w.requests);
  const idle = read(files.idle, w.idleSeconds);
  if (files.paced.length === 0 || w.pacedSeconds === undefined) return { requests, idle };
  const paced = read(files.paced, w.requests);
  // Each thread read as the whole process is (perRequest): its work per request and per second of the clock, from the two paces.
  const atRate = Object.fromEntries(
    THREADS.map((t) => [t, perRequest({ ...w, instructions: requests[t] * w.requests, pacedInstructions: paced[t] * w.requests, idleInstructions: idle[t] * w.idleSeconds }, rate).atRate]),
  ) as Record<ThreadKind, number>;
  return { requests, idle, paced, atRate };
}

/** Waits until the child's CPU time per second drops to its idle level (never more than SETTLE_MAX_S). */
async function settle(child: Child): Promise<void> {
  let quiet = 0;
  let last = await child.cpuUs();
  for (let s = 0; s < SETTLE_MAX_S && quiet < 2; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await child.cpuUs();
    quiet = now - last <= QUIET_CPU_US_PER_S ? quiet + 1 : 0;
    last = now;
  }
}

function categorise(files: Measured['files'], perfMap: string, w: Window): Measured['categories'] {
  const ranges = readPerfMap(readFileSync(perfMap, 'utf8'));
  const read = (list: string[], per: number) => {
    const c = byCategory(namedCosts(processCosts(list), ranges), BUNDLE_MARK);
    for (const k of CATEGORIES) c[k] /= per;
    return c;
  };
  return { requests: read(files.requests, w.requests), idle: read(files.idle, w.idleSeconds) };
}

/** Instructions by thread, mean over the repeats: which thread does each variant's work, per request and per idle second. */
function reportThreads(all: Measured[], variants: Variant[], o: InstructionOptions, log: (l: string) => void): Record<string, unknown> {
  const shown = variants.filter((v) => v !== 'bare-b');
  const of = (v: Variant, w: 'requests' | 'idle', t: ThreadKind) => mean(all.filter((m) => m.variant === v).map((m) => m.threads[w][t]));
  const diff = shown.includes('agent') && shown.includes('bare');
  const out: Record<string, unknown> = {};
  for (const w of ['requests', 'idle'] as const) {
    const rows = THREADS.map((t) => [t, ...shown.map((v) => fmt(of(v, w, t) / 1000, 1)), ...(diff ? [fmt((of('agent', w, t) - of('bare', w, t)) / 1000, 1)] : [])]);
    log(`\nby thread, ${w === 'requests' ? 'thousands per request (request window, gross)' : 'thousands per second (idle window)'}, mean of the repeats`);
    log(table(['thread', ...shown, ...(diff ? ['agent − bare'] : [])], rows));
    out[w] = Object.fromEntries(shown.map((v) => [v, Object.fromEntries(THREADS.map((t) => [t, of(v, w, t)]))]));
  }
  const paced = all.every((m) => m.threads.atRate !== undefined);
  const atRate = (v: Variant, t: ThreadKind) => mean(all.filter((m) => m.variant === v).map((m) => m.threads.atRate?.[t] ?? Number.NaN));
  if (paced) {
    const rows = THREADS.map((t) => [t, ...shown.map((v) => fmt(atRate(v, t) / 1000, 1)), ...(diff ? [fmt((atRate('agent', t) - atRate('bare', t)) / 1000, 1)] : [])]);
    log(`\nby thread, thousands per request at ${o.rate} req/s (each thread's work per request and per second of the clock, from the two paces), mean of the repeats`);
    log(table(['thread', ...shown, ...(diff ? ['agent − bare'] : [])], rows));
    out.atRate = Object.fromEntries(shown.map((v) => [v, Object.fromEntries(THREADS.map((t) => [t, atRate(v, t)]))]));
  }
  // The main thread repeats within a percent or two from child to child; V8's helpers (when compiles and GC marking land) do not.
  if (shown.includes('bare')) {
    const main = (v: Variant) => (paced ? atRate(v, 'main thread') : of(v, 'requests', 'main thread'));
    const lines = variants.filter((v) => v !== 'bare').map((v) => `${v} ×${fmt(main(v) / main('bare'), 3)}`);
    log(`  the main thread alone (${paced ? `at ${o.rate} req/s` : 'request window, gross'}) against bare's: ${lines.join(', ')}`);
    out.mainThreadRatio = Object.fromEntries(variants.filter((v) => v !== 'bare').map((v) => [v, main(v) / main('bare')]));
  }
  return out;
}

/** Self instructions by category, mean over the repeats: where each variant's instructions go, per request and per idle second. */
function reportCategories(all: Measured[], variants: Variant[], log: (l: string) => void): Record<string, unknown> {
  const shown = variants.filter((v) => v !== 'bare-b' && all.some((m) => m.variant === v && m.categories));
  const cat = (v: Variant, w: 'requests' | 'idle', k: Category) => mean(all.filter((m) => m.variant === v && m.categories).map((m) => m.categories![w][k]));
  const out: Record<string, unknown> = {};
  for (const w of ['requests', 'idle'] as const) {
    const rows = CATEGORIES.map((k) => [k, ...shown.map((v) => fmt(cat(v, w, k) / 1000, 1)), ...(shown.includes('agent') ? [fmt((cat('agent', w, k) - cat('bare', w, k)) / 1000, 1)] : [])]);
    log(`\nwhere the instructions go, ${w === 'requests' ? 'thousands per request (request window)' : 'thousands per second (idle window)'}; self cost by category, mean of the repeats`);
    log(table(['category', ...shown, ...(shown.includes('agent') ? ['agent − bare'] : [])], rows));
    out[w] = Object.fromEntries(shown.map((v) => [v, Object.fromEntries(CATEGORIES.map((k) => [k, cat(v, w, k)]))]));
  }
  return out;
}

function report(all: Measured[], variants: Variant[], o: InstructionOptions, log: (l: string) => void): Record<string, unknown> {
  const of = (v: Variant, key: keyof PerRequest) => all.filter((m) => m.variant === v).map((m) => m.per[key]);
  const M = (x: number) => fmt(x / 1e6, 3);
  const range = (xs: number[]) => `${M(Math.min(...xs))}–${M(Math.max(...xs))}`;
  const bareB = variants.includes('bare-b') ? of('bare-b', 'atRate') : undefined;
  const rows: string[][] = [];
  const verdicts: Record<string, unknown> = {};
  const lines: string[] = [];
  for (const v of variants) {
    const net = of(v, 'net');
    const at = of(v, 'atRate');
    const judged = judgeInstructions(at, of('bare', 'atRate'), bareB, STEADY_TARGETS.cpu);
    const netRatio = mean(net) / mean(of('bare', 'net'));
    rows.push([v, M(mean(of(v, 'gross'))), M(mean(net)), range(net), `±${fmt(halfRange(net) * 100, 2)} %`, `×${fmt(netRatio, 3)}`, fmt(mean(of(v, 'periodicPerSecond')) / 1e6, 2), M(mean(at)), `×${fmt(judged.ratio, 3)}`]);
    verdicts[v] = { gross: mean(of(v, 'gross')), net: mean(net), netRange: [Math.min(...net), Math.max(...net)], netRatio, periodicPerSecond: mean(of(v, 'periodicPerSecond')), atRate: mean(at), ratio: judged.ratio, spread: judged.spread, verdict: judged.verdict };
    if (v !== 'bare' && v !== 'bare-b') lines.push(`  verdict ${v}: instructions per request at ${o.rate} req/s ×${fmt(judged.ratio, 3)} (target ≤ ×${STEADY_TARGETS.cpu}): ${judged.text}`);
  }
  log('\n' + table(['variant', 'gross M/req', 'request path M/req', 'repeats', '±', 'path ratio', 'periodic M/s', `at ${o.rate}/s M/req`, 'ratio'], rows));
  if (bareB) {
    const aa = judgeInstructions(bareB, of('bare', 'atRate'), bareB, STEADY_TARGETS.cpu);
    log(`  A/A line (bare-b/bare): ×${fmt(aa.ratio, 4)}; spread ±${fmt(aa.spread * 100, 2)} % (the larger of its distance from ×1 and the half-ranges of both)`);
  } else log('  no A/A line (bare-b not among --variants): verdicts are unresolved');
  log('  gross = all instructions of the server process (every thread) during the counted requests / requests.');
  if (o.pace > 1) {
    log(`  The same requests were sent again taking ${o.pace}× as long: request path = what each request costs, periodic = what each second of wall`);
    log('  time costs while they arrive (the clock\'s work: timers, a client\'s deltas, per-second sampling), from the two windows;');
  } else {
    log('  request path = gross less the lowest idle-window rate of its repeats (less that window\'s GC) × the window\'s wall time (periodic);');
  }
  log('  at N/s = request path + periodic / N (what a server at that rate pays per request, natively). Ratios are of means over the repeats;');
  log('  verdicts read the "at N/s" ratio beside the larger of the A/A spread and the variant\'s own half-range.');
  for (const l of lines) log(l);
  return { summary: verdicts };
}

/** The agent's own functions in its last run's dumps (request window and idle window), named from the perf map. */
function attribute(m: Measured, o: InstructionOptions, log: (l: string) => void): unknown {
  if (!m.files.perfMap) {
    log('\n  no perf map for the agent run: no attribution');
    return undefined;
  }
  const ranges = readPerfMap(readFileSync(m.files.perfMap, 'utf8'));
  const out: Record<string, unknown> = {};
  for (const [label, file, per] of [
    ['request window', m.files.requests, m.window.requests],
    ['idle window', m.files.idle, m.window.idleSeconds],
  ] as const) {
    const named = namedCosts(processCosts(file), ranges);
    const agent = [...named].filter(([n]) => n.includes(BUNDLE_MARK));
    const top = agent.sort((a, b) => b[1].self - a[1].self).slice(0, o.top);
    const unit = label === 'request window' ? 'per request' : 'per second';
    // Recursion (a wrapper around every router layer calls the next layer through Express) counts a callee's cost once per level.
    const cap = label === 'request window' ? m.per.gross : m.per.periodicPerSecond;
    const row = ([n, c]: [string, FunctionCost]) => [shortName(n), fmt(c.self / per, 0), c.inclusive / per > cap ? 'recursive' : fmt(c.inclusive / per, 0)];
    const selfSum = agent.reduce((s, [, c]) => s + c.self, 0);
    log(`\nagent functions in the ${label} of ${m.variant} #${m.repeat} (instructions ${unit}; self: own code with what V8 inlined into it; inclusive: with callees)`);
    log(table(['function (agent bundle)', 'self', 'inclusive'], top.map(row)));
    log(`  all agent-bundle functions, self: ${fmt(selfSum / per, 0)} ${unit}`);
    out[label] = { unit, selfTotal: selfSum / per, top: top.map(([n, c]) => ({ name: n, self: c.self / per, inclusive: c.inclusive / per })) };
  }
  return out;
}

/** `JS:*recordRequest /…/agent-bundle/index.js:123:45` → `*recordRequest index.js:123`. */
function shortName(name: string): string {
  const m = /^(?:JS:)?(\S*)\s+\S*\/([^/]+\.js):(\d+)/.exec(name);
  return m ? `${m[1] || '(anonymous)'} ${m[2]}:${m[3]}` : name;
}
