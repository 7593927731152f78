/**
 * Section 4, the design the cost targets are read against: CPU per request one server at a time,
 * in a steady state, at a fixed rate below saturation (runSteady in http.ts), with peak
 * throughput from the same runs; every variant against bare Express as ratios side by side, the
 * A/A line (bare-b) from the same run, and verdicts that carry its spread (lib/verdict.ts). Then
 * the agent's retained main-thread heap, idle and after many requests over many routes.
 */
import { type MainThreadTime, type SteadyRound, compare, startServer, stopServer } from './http';
import { manyRoutesPlan } from './heap';
import { fmt, fmtRange, mb, mbSpread, median, pct, table } from './lib/stats';
import { type Variant, specOf } from './lib/variants';
import { type Judged, aaSpread, judge, judgeRounds } from './lib/verdict';

export const STEADY_TARGETS = {
  /** CPU per request, variant/bare, at most. */
  cpu: 1.03,
  /** Peak throughput, variant/bare, at least. */
  peak: 0.95,
  /** The agent's retained heap on the main thread, bytes, at most. */
  heapBytes: 5 * 1024 * 1024,
} as const;

/** The variants section 4 always runs; `--variants` adds more (variants.ts). The A/A variant comes last. */
/** The agent's cost is read with spans as they are by default (sampled), off, and on for every request, in one run. */
export const STEADY_VARIANTS: readonly Variant[] = ['bare', 'agent', 'agent-nospans', 'agent-spans', 'status-monitor', 'prom-bundle'];

type Log = (line: string) => void;

/** Prints section 4's table and verdict lines; returns the JSON part. */
export function reportSteady(results: SteadyRound[], variants: readonly Variant[], log: Log): unknown {
  const noise = variants.includes('bare-b') ? compare(results, 'bare', 'bare-b') : undefined;
  const cpuSpread = noise ? aaSpread(noise.cpuRatios) : Number.NaN;
  const peakSpread = noise ? aaSpread(noise.peakRatios) : Number.NaN;
  const rows: string[][] = [];
  const out: Record<string, unknown> = { noiseFloor: noise, cpuSpread, peakSpread };
  const verdicts: string[] = [];
  for (const v of variants) {
    if (v === 'bare') continue;
    const c = compare(results, 'bare', v);
    const cpu = judge(c.cpuRatio, STEADY_TARGETS.cpu, 'at most', cpuSpread);
    const peak = judge(c.peakRatio, STEADY_TARGETS.peak, 'at least', peakSpread);
    rows.push([v, fmt(c.cpuUsPerRequest.variant, 1), `×${fmt(c.cpuRatio, 3)}`, fmtRange(c.cpuRange), `×${fmt(c.peakRatio, 3)}`, fmtRange(c.peakRange), `×${fmt(c.peakCpuRatio, 3)}`]);
    if (v !== 'bare-b') {
      verdicts.push(`  verdict ${v}: CPU per request ×${fmt(c.cpuRatio, 3)} (target ≤ ×${STEADY_TARGETS.cpu}): ${cpu.text}; peak throughput ×${fmt(c.peakRatio, 3)} (target ≥ ×${STEADY_TARGETS.peak}): ${peak.text}`);
    }
    out[v] = { comparison: c, cpuVerdict: cpu.verdict, peakVerdict: peak.verdict };
  }
  const bare = compare(results, 'bare', 'bare');
  log('\n' + table(['variant (vs bare)', 'CPU µs/req', 'CPU/req ratio', 'rounds', 'peak ratio', 'rounds', 'CPU/req at peak'], [['bare', fmt(bare.cpuUsPerRequest.baseline, 1), '×1', '', '×1', '', '×1'], ...rows]));
  log(noise ? `  A/A line (bare-b/bare): CPU/req ×${fmt(noise.cpuRatio, 3)} (rounds ${fmtRange(noise.cpuRange)}), spread ±${pct(cpuSpread).slice(1)}; peak ×${fmt(noise.peakRatio, 3)} (rounds ${fmtRange(noise.peakRange)}), spread ±${pct(peakSpread).slice(1)}` : '  no A/A line in this run (--no-aa or --quick): verdicts are unresolved');
  log('  spread = the larger of the A/A median\'s distance from ×1 and half the interquartile range of its per-round ratios; a verdict is "met" or');
  log('  "not met" only when the figure is farther than that from its target. Ratios are medians of per-round ratios; CPU is the whole process\'s (every thread).');
  for (const line of verdicts) log(line);
  const threads = reportThreads(results, variants, log);
  if (threads) out.threads = threads;
  return out;
}

type ThreadName = 'main' | 'agent' | 'other';
const THREADS: ReadonlyArray<[ThreadName, string]> = [
  ['main', 'main thread'],
  ['agent', "agent's worker"],
  ['other', 'V8 and libuv helpers'],
];

/** Each variant's medians over rounds: each thread's share of bare's whole CPU per request, and what the main thread's time is made of. */
export type ThreadReport = Record<ThreadName, number> & { mainTime?: Required<MainThreadTime> };

/**
 * Where each variant's CPU per request goes, by thread (the paced phase; Linux): per round, each
 * thread's µs per request over bare's whole CPU per request in the same round, then the median
 * over rounds. The main thread's line is the one the agent's request path shows in. Then what the
 * main thread's time is made of: user and system time and GC pauses (same shares), and its context
 * switches per request.
 */
function reportThreads(results: SteadyRound[], variants: readonly Variant[], log: Log): Record<string, ThreadReport> | undefined {
  if (!results.some((r) => r.threads)) return undefined;
  const overRounds = (v: Variant, read: (r: SteadyRound, bareCpu: number) => number | undefined): number => {
    const values: number[] = [];
    for (const r of results) {
      const bare = results.find((b) => b.variant === 'bare' && b.round === r.round);
      const value = r.variant === v && bare ? read(r, bare.cpuUsPerRequest) : undefined;
      if (value !== undefined) values.push(value);
    }
    return median(values);
  };
  const out: Record<string, ThreadReport> = {};
  const rows: string[][] = [];
  const timeRows: string[][] = [];
  for (const v of variants) {
    const row: ThreadReport = {
      main: overRounds(v, (r, bare) => r.threads && r.threads.main / bare),
      agent: overRounds(v, (r, bare) => r.threads && r.threads.agent / bare),
      other: overRounds(v, (r, bare) => r.threads && r.threads.other / bare),
    };
    rows.push([v, ...THREADS.map(([t]) => `${fmt(row[t] * 100, 1)} %`)]);
    if (results.some((r) => r.variant === v && r.threads?.mainTime)) {
      row.mainTime = {
        system: overRounds(v, (r, bare) => r.threads?.mainTime && r.threads.mainTime.system / bare),
        gc: overRounds(v, (r, bare) => r.threads?.mainTime?.gc !== undefined ? r.threads.mainTime.gc / bare : undefined),
        voluntary: overRounds(v, (r) => r.threads?.mainTime?.voluntary),
        involuntary: overRounds(v, (r) => r.threads?.mainTime?.involuntary),
      };
      const k = row.mainTime;
      timeRows.push([v, `${fmt((row.main - k.system) * 100, 1)} %`, `${fmt(k.gc * 100, 1)} %`, `${fmt(k.system * 100, 1)} %`, fmt(k.voluntary, 3), fmt(k.involuntary * 1000, 2)]);
    }
    out[v] = row;
  }
  log('\n' + table(['CPU per request by thread (share of bare\'s whole)', ...THREADS.map(([, label]) => label)], rows));
  log("  per round, each thread's CPU per request (its /proc schedstat) over bare's whole process in the same round, then the median over rounds;");
  log("  the agent's worker is the thread it names routelens. A variant's shares need not add up to its ratio above (medians of different rounds).");
  if (timeRows.length === 0) return out;
  log('\n' + table(["main thread (share of bare's whole)", 'user', 'of it in GC pauses', 'system', 'waits per request', 'preemptions per 1000'], timeRows));
  log("  the main thread's schedstat time split by its user and system ticks (/proc stat); its GC pauses (V8's gc performance entries);");
  log('  its voluntary (waits: epoll, a lock) and involuntary (preemptions) context switches (/proc status) per request; medians over rounds.');
  return out;
}

/** Section 4b's pairs of children by default (one with --quick). */
export const HEAP_ROUNDS = 3;

export interface HeapSettings {
  routes: number;
  requests: number;
  /** Pairs of children (bare, agent). */
  rounds: number;
  connections: number;
  log: Log;
}

export interface HeapResult {
  /** Main-thread heap in use plus ArrayBuffers after full collections, bytes, per round: started (idle) and after the requests, per variant. */
  rounds: Array<{ idle: Record<string, number>; loaded: Record<string, number> }>;
  /** agent − bare, per round. */
  retainedIdle: number[];
  retainedLoaded: number[];
}

/**
 * The agent's retained heap on the main thread: `bare` and `agent` (with a stream client), both
 * on an app with `routes` more routes and `--expose-gc`, each measured after start-up and after
 * `requests` requests, after full collections; the agent's is the difference. `rounds` pairs of
 * children (the order reversed every other round): the same code reads differently from child to
 * child (what is in flight, when the last collection ran), and the verdict carries that spread.
 */
export async function runHeap(s: HeapSettings): Promise<HeapResult> {
  const out: HeapResult = { rounds: [], retainedIdle: [], retainedLoaded: [] };
  for (let round = 0; round < s.rounds; round++) {
    const idle: Record<string, number> = {};
    const loaded: Record<string, number> = {};
    for (const variant of round % 2 === 0 ? (['bare', 'agent'] as const) : (['agent', 'bare'] as const)) {
      const server = await startServer(variant, { connections: s.connections }, specOf(variant).stream === true, {
        nodeArgs: ['--expose-gc'],
        env: { BENCH_ROUTES: String(s.routes), BENCH_SOURCE_MAPS: '0' },
        plan: (port) => manyRoutesPlan(port, s.routes, s.requests),
      });
      try {
        idle[variant] = memory(await server.child.ask({ type: 'heap' }, 'heap'));
        const r = await server.load.run({ durationMs: 600_000, maxRequests: s.requests });
        if (r.errors > 0) throw new Error(`${variant}: ${r.errors} failed requests`);
        loaded[variant] = memory(await server.child.ask({ type: 'heap' }, 'heap'));
        s.log(`  round ${round + 1} ${variant}: ${r.responses} requests in ${(r.elapsedMs / 1000).toFixed(0)} s; heap ${mb(idle[variant])} idle, ${mb(loaded[variant])} after`);
      } finally {
        await stopServer(server);
      }
    }
    out.rounds.push({ idle, loaded });
    out.retainedIdle.push(idle.agent! - idle.bare!);
    out.retainedLoaded.push(loaded.agent! - loaded.bare!);
  }
  return out;
}

/** What the main thread holds: its heap and its ArrayBuffers' contents (a typed array over 64 bytes keeps them outside the heap). */
const memory = (m: { heapUsed: number; arrayBuffers: number }): number => m.heapUsed + m.arrayBuffers;

export function reportHeap(h: HeapResult, s: HeapSettings, log: Log): { idle: Judged; loaded: Judged } {
  const of = (phase: 'idle' | 'loaded', variant: string): number[] => h.rounds.map((r) => r[phase][variant]!);
  const verdicts = { idle: judgeRounds(h.retainedIdle, STEADY_TARGETS.heapBytes, mb), loaded: judgeRounds(h.retainedLoaded, STEADY_TARGETS.heapBytes, mb) };
  log('\n' + table(['main-thread heap after GC (median, rounds)', 'bare', 'agent', 'agent − bare', 'target', 'verdict'], [
    ['idle (started, stream attached)', mbSpread(of('idle', 'bare')), mbSpread(of('idle', 'agent')), mbSpread(h.retainedIdle), `≤ ${mb(STEADY_TARGETS.heapBytes)}`, verdicts.idle.verdict],
    [`after ${s.requests} requests, ${s.routes} routes`, mbSpread(of('loaded', 'bare')), mbSpread(of('loaded', 'agent')), mbSpread(h.retainedLoaded), `≤ ${mb(STEADY_TARGETS.heapBytes)}`, verdicts.loaded.verdict],
  ]));
  log(`  heapUsed + arrayBuffers; ${h.rounds.length} child(ren) per variant, --expose-gc, 3 full collections before each reading; one request in ten goes to a different unmatched path.`);
  log('  "agent − bare" is per round (the children of one round run back to back); met only when every round is within the target.');
  log('  `npm run bench -- heap --features --snapshot` attributes it (docs/performance.md).');
  log(`  verdict agent heap: idle ${mb(median(h.retainedIdle))}: ${verdicts.idle.text}; after ${s.requests} requests over ${s.routes} routes ${mb(median(h.retainedLoaded))}: ${verdicts.loaded.text} (target ≤ ${mb(STEADY_TARGETS.heapBytes)})`);
  return verdicts;
}
