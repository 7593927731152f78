/**
 * `npm run bench` (the `suite` subcommand; options in bench/lib/args.ts): what the agent costs
 * against bare Express. Prints one table per section with ratios measured side by side in this
 * one run, the targets and PASS/FAIL words (informational: exits 0 unless the bench itself
 * crashed), and writes bench/results/latest.json.
 */
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { startRedis, type TestRedis } from '../test/support/redis';
import { type CacheResults, runCacheBench } from './cache';
import { type Comparison, type HttpSettings, type RoundResult, calibrate, compare, percentileAgreement, runAlternating, runSteady } from './http';
import { HEAP_ROUNDS, STEADY_VARIANTS, reportHeap, reportSteady, runHeap } from './steady';
import { agentSource, loadAgent, prepareAgent } from './lib/adapter';
import { diffPerRequest, summarise } from './profile';
import type { BenchInvocation } from './lib/args';
import type { Variant } from './lib/variants';
import { fmt, fmtRange, median, pct, table, verdict } from './lib/stats';
import { aaSpread, judge } from './lib/verdict';

/** Targets (informational). See docs/performance.md for why each is what it is. */
export const TARGETS = {
  agentOverhead: 0.03,
  percentileDiff: 0.05,
  /** Against `await lru.get`: the floor for any promise-returning get. */
  l1HitVsAwaitedLru: 2,
  l2HitVsGet: 1.1,
  limiterMemoryOverhead: 0.05,
  limiterRedisOverhead: 0.25,
  /** Our limiter over express-rate-limit (+ rate-limiter-flexible) used directly: CPU per request. */
  limiterShareOverAnchor: 0.03,
} as const;

/** The suite's options, as bench/lib/args.ts parses them. */
export type SuiteOptions = Extract<BenchInvocation, { command: 'suite' }>['options'];

const log = (line: string) => process.stdout.write(line + '\n');

export async function runSuite(options: SuiteOptions): Promise<void> {
  const only = new Set(options.only.map(Number));
  const args = { ...options, quick: options.quick === true, profile: options.profile === true, aa: options.aa ?? options.quick !== true, only, out: resolve(options.out) };
  const started = Date.now();
  const bundleError = await prepareAgent();
  const { mod: agentMod, error: loadError } = loadAgent();
  const agentError = bundleError ?? loadError;
  log(`RouteLens bench${args.quick ? ' (quick)' : ''}: node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  log(`agent: ${agentMod ? relative(process.cwd(), agentSource()) : `not available (${agentError})`}`);

  const profileDir = join(__dirname, 'results', 'profiles');
  if (args.profile) {
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
  }
  const http: HttpSettings = {
    rounds: args.rounds ?? (args.quick ? 2 : 6),
    warmupMs: args.quick ? 1000 : 2000,
    idleMs: args.quick ? 1000 : 3000,
    fixedMs: args.quick ? 2000 : 6000,
    peakMs: args.quick ? 1500 : 4000,
    sliceMs: args.quick ? 500 : 1000,
    connections: 8,
    rate: 0,
    profileDir: args.profile ? profileDir : undefined,
    log,
  };

  const redis: TestRedis | undefined = args.only.has(2) || args.only.has(3) ? await startRedis() : undefined;
  const json: Record<string, unknown> = {
    time: new Date(started).toISOString(),
    quick: args.quick,
    machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadavgAtStart: os.loadavg() },
    agent: agentMod ? agentSource() : null,
    agentError: agentError ?? null,
    targets: TARGETS,
  };
  try {
    if (args.only.has(1) || args.only.has(3) || args.only.has(4)) {
      if (args.rate) http.rate = args.rate;
      else {
        const peak = await calibrate(http, args.quick ? 1500 : 3000);
        http.rate = Math.max(100, Math.min(3000, Math.round((peak * 0.4) / 100) * 100));
        log(`calibration: bare Express peaks at ${peak.toFixed(0)} req/s → fixed rate ${http.rate} req/s (40%, capped at 3000)`);
      }
      json.settings = { ...http, log: undefined, redisUrl: undefined };
    }

    if (args.only.has(1)) {
      log(`\n== 1. Agent overhead, mixed Express 5 workload (${http.rounds} rounds, fixed ${http.rate} req/s for ${http.fixedMs / 1000} s, peak ${http.peakMs / 1000} s, in ${http.sliceMs / 1000} s slices alternating between servers, ${http.connections} connections)`);
      const variants: Variant[] = agentMod ? ['bare', 'agent', 'agent-metrics'] : ['bare'];
      if (args.aa) variants.push('bare-b');
      const results = await runAlternating(variants, http, ['agent']);
      json.agentOverhead = reportOverhead(results, !!agentMod, !!args.aa);
    }

    if (args.only.has(2)) {
      log('\n== 2. Cache hit cost vs the raw libraries (in-process, interleaved batches)');
      const cache = await runCacheBench(
        {
          rounds: args.rounds ? args.rounds * 3 : args.quick ? 5 : 15,
          memoryBatch: args.quick ? 50_000 : 200_000,
          redisBatch: args.quick ? 500 : 2000,
          redisUrl: redis!.url,
          log,
        },
        agentMod,
      );
      json.cache = reportCache(cache);
    }

    if (args.only.has(3)) {
      log(`\n== 3. Rate limiter cost per request (${http.rounds} rounds, fixed ${http.rate} req/s)`);
      if (!agentMod) {
        log('  skipped: the agent is not available');
        json.rateLimit = { skipped: 'agent not available' };
      } else {
        const variants: Variant[] = ['agent-idle', 'rl-memory', 'erl-memory', 'rl-redis', 'erl-redis'];
        if (args.aa) variants.push('agent-idle-b');
        const results = await runAlternating(variants, { ...http, redisUrl: redis!.url });
        json.rateLimit = reportLimiter(results, !!args.aa);
      }
    }

    if (args.only.has(4)) {
      const steady = {
        rounds: args.rounds ?? (args.quick ? 2 : 12),
        rate: http.rate,
        warmupMs: args.quick ? 1500 : 3000,
        pacedMs: args.quick ? 2000 : 6000,
        peakMs: args.quick ? 1500 : 3000,
        connections: http.connections,
        log,
      };
      log(`\n== 4. Overhead one server at a time in a steady state: the verdicts (${steady.rounds} rounds; each server fresh, warmed ${steady.warmupMs / 1000} s, paced ${steady.rate} req/s for ${steady.pacedMs / 1000} s, peak ${steady.peakMs / 1000} s)`);
      if (!agentMod) {
        log('  skipped: the agent is not available');
        json.steadyOverhead = { skipped: 'agent not available' };
      } else {
        const variants: Variant[] = [...new Set([...STEADY_VARIANTS, ...(args.variants ?? [])])].filter((v) => v !== 'bare-b') as Variant[];
        if (args.aa) variants.push('bare-b');
        log(`  variants: ${variants.join(', ')}`);
        json.steadyOverhead = reportSteady(await runSteady(variants, steady), variants, log);
        const heap = { routes: 2000, requests: args['heap-requests'] ?? (args.quick ? 20_000 : 100_000), rounds: args.quick ? 1 : HEAP_ROUNDS, connections: http.connections, log };
        log(`\n== 4b. The agent's retained main-thread heap: idle, and after ${heap.requests} requests over ${heap.routes} routes (${heap.rounds} round(s))`);
        const h = await runHeap(heap);
        json.heap = { ...h, verdicts: reportHeap(h, heap, log) };
      }
    }
  } finally {
    await redis?.stop();
  }
  if (args.profile) json.profiles = reportProfiles(profileDir, json);
  json.durationSeconds = (Date.now() - started) / 1000;
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify(json, null, 2) + '\n');
  log(`\nwrote ${relative(process.cwd(), args.out)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function reportOverhead(results: RoundResult[], hasAgent: boolean, aa: boolean): unknown {
  const noise = aa ? compare(results, 'bare', 'bare-b') : undefined;
  if (noise) log(`\n  ${noiseLine(noise)}`);
  if (!hasAgent) {
    const bare = results.filter((r) => r.variant === 'bare');
    log('\n' + table(['bare Express (agent not available)', 'round', 'CPU µs/req', 'peak req/s'], bare.map((r) => ['', String(r.round), fmt(r.cpuUsPerRequest, 1), fmt(r.peakRps, 0)])));
    return { rounds: results };
  }
  const c = compare(results, 'bare', 'agent');
  const cpuOver = c.cpuRatio - 1;
  const tputOver = 1 - c.peakRatio;
  log('\n' + overheadTable(c, noise));
  const agree = percentileAgreement(results);
  log(
    '\n' +
      table(
        ['GET /users/:id, paced', 'agent (ms)', 'client (ms)', 'vs client', 'verdict', 'http edge (ms)', 'vs http edge', 'verdict', 'app edge (ms)', 'vs app edge', 'verdict'],
        agree.map((a) => [
          a.name,
          fmt(a.agent, 3),
          ...cmp(a.client, a.diff),
          ...cmp(a.http, a.httpDiff),
          ...cmp(a.app, a.appDiff),
        ]),
      ),
  );
  log(`  target: agent within ±${pct(TARGETS.percentileDiff, 0).slice(1)} of each reference. client = the load generator (write → last byte: adds the loopback and both`);
  log(`  event loops); http edge = server 'request' → 'finish'; app edge = a first Express middleware → 'finish' (the agent's own span).`);
  const m = compare(results, 'bare', 'agent-metrics');
  const delta = (x: number, base: number) => `${x - base >= 0 ? '+' : ''}${fmt(x - base, 1)}`;
  log(
    '\n' +
      table(
        ['what each part costs (vs bare)', 'CPU µs/req', 'Δ µs/req', 'CPU ratio', 'Δ µs/req at peak', 'peak ratio'],
        [
          ['metrics middleware only (server: false)', fmt(m.cpuUsPerRequest.variant, 1), delta(m.cpuUsPerRequest.variant, m.cpuUsPerRequest.baseline), fmt(m.cpuRatio, 3), delta(m.peakCpuUsPerRequest.variant, m.peakCpuUsPerRequest.baseline), fmt(m.peakRatio, 3)],
          ['everything on (+ local server, stream client)', fmt(c.cpuUsPerRequest.variant, 1), delta(c.cpuUsPerRequest.variant, c.cpuUsPerRequest.baseline), fmt(c.cpuRatio, 3), delta(c.peakCpuUsPerRequest.variant, c.peakCpuUsPerRequest.baseline), fmt(c.peakRatio, 3)],
          ['  of which the server and stream', '', delta(c.cpuUsPerRequest.variant, m.cpuUsPerRequest.variant), '', delta(c.peakCpuUsPerRequest.variant, m.peakCpuUsPerRequest.variant), ''],
        ],
      ),
  );
  const streams = results.filter((r) => r.stream).map((r) => r.stream!);
  const idle = (v: Variant) => fmt(median(results.filter((r) => r.variant === v).map((r) => r.idleCpuMsPerS)), 2);
  log(`  idle (all servers at once, no requests; medians): server CPU ms per second: bare ${idle('bare')}, metrics middleware only ${idle('agent-metrics')}, everything on ${idle('agent')} (stream client connected)`);
  if (streams.length) log(`  stream client: ${streams.map((s) => `${s.delta} deltas / ${(s.bytes / 1024).toFixed(0)} KiB`).join(', ')} per round`);
  return { comparison: c, metricsOnly: m, noiseFloor: noise, cpuOverhead: cpuOver, throughputOverhead: tputOver, percentiles: agree, rounds: results };
}

/** The agent's cost against bare Express with the targets: CPU per request, peak throughput, CPU per request at peak; verdicts beside the A/A spread. */
function overheadTable(c: Comparison, noise: Comparison | undefined): string {
  const target = `≤ ${pct(TARGETS.agentOverhead, 0)}`;
  const cpuSpread = noise ? aaSpread(noise.cpuRatios) : Number.NaN;
  const peakSpread = noise ? aaSpread(noise.peakRatios) : Number.NaN;
  const row = (measure: string, digits: number, base: number, agent: number, ratio: number, rounds: string, over: number, j: string) => [measure, fmt(base, digits), fmt(agent, digits), fmt(ratio, 3), rounds, pct(over), target, j];
  return table(
    ['measure', 'bare', 'agent', 'agent/bare', 'rounds range', 'overhead', 'target', 'verdict (beside the A/A spread)'],
    [
      row('server CPU per request (µs)', 1, c.cpuUsPerRequest.baseline, c.cpuUsPerRequest.variant, c.cpuRatio, fmtRange(c.cpuRange), c.cpuRatio - 1, judge(c.cpuRatio, 1 + TARGETS.agentOverhead, 'at most', cpuSpread).text),
      row('peak throughput (req/s)', 0, c.peakRps.baseline, c.peakRps.variant, c.peakRatio, fmtRange(c.peakRange), 1 - c.peakRatio, judge(c.peakRatio, 1 - TARGETS.agentOverhead, 'at least', peakSpread).text),
      row('server CPU per request at peak (µs)', 1, c.peakCpuUsPerRequest.baseline, c.peakCpuUsPerRequest.variant, c.peakCpuRatio, '', c.peakCpuRatio - 1, '(info)'),
    ],
  );
}

function noiseLine(noise: Comparison): string {
  return `A/A noise floor (bare-b/bare): CPU/req ${fmt(noise.cpuRatio, 3)} (${fmtRange(noise.cpuRange)}), peak ${fmt(noise.peakRatio, 3)} (${fmtRange(noise.peakRange)}), CPU/req at peak ${fmt(noise.peakCpuRatio, 3)}`;
}

function cmp(reference: number, diff: number): string[] {
  return [fmt(reference, 3), pct(diff), Number.isFinite(diff) ? verdict(Math.abs(diff) <= TARGETS.percentileDiff) : 'n/a'];
}

function reportCache(r: CacheResults): unknown {
  const ns = (name: string) => r.cases[name]?.nsPerOp ?? Number.NaN;
  const rows: string[][] = [];
  const line = (label: string, agentCase: string, rawCase: string, target: number) => {
    const ratio = ns(agentCase) / ns(rawCase);
    rows.push([label, fmt(ns(agentCase), 0), fmt(ns(rawCase), 0), fmt(ratio, 2) + '×', `≤ ${target}×`, Number.isFinite(ratio) ? verdict(ratio <= target) : 'n/a']);
    return ratio;
  };
  const l1 = ns('agent L1 hit') / ns('lru.get');
  rows.push(['L1 hit vs lru.get (sync)', fmt(ns('agent L1 hit'), 0), fmt(ns('lru.get'), 0), fmt(l1, 2) + '×', '(info)', '']);
  const l1a = line('L1 hit vs await lru.get', 'agent L1 hit', 'await lru.get', TARGETS.l1HitVsAwaitedLru);
  const l2 = line('L2 hit vs ioredis GET', 'agent L2 hit', 'ioredis GET + JSON.parse', TARGETS.l2HitVsGet);
  log('\n' + table(['operation', 'agent ns/op', 'raw ns/op', 'ratio', 'target', 'verdict'], rows));
  log(`  ${r.keys} keys, ${r.valueBytes}-byte JSON values; the agent's get returns a promise, so its floor is \`await lru.get\`; the L2 baseline decodes the JSON too`);
  for (const n of r.notes) log(`  note: ${n}`);
  return { l1Ratio: l1, l1VsAwaitedRatio: l1a, l2Ratio: l2, ...r };
}

function reportLimiter(results: RoundResult[], aa: boolean): unknown {
  const rows: string[][] = [];
  const out: Record<string, unknown> = {};
  const noise = aa ? compare(results, 'agent-idle', 'agent-idle-b') : undefined;
  const cpuSpread = noise ? aaSpread(noise.cpuRatios) : Number.NaN;
  const peakSpread = noise ? aaSpread(noise.peakRatios) : Number.NaN;
  for (const [v, target] of [
    ['rl-memory', TARGETS.limiterMemoryOverhead],
    ['rl-redis', TARGETS.limiterRedisOverhead],
  ] as const) {
    const c = compare(results, 'agent-idle', v);
    const label = v === 'rl-memory' ? 'memory store' : 'Redis store';
    rows.push([`${label}: CPU per request (µs)`, fmt(c.cpuUsPerRequest.baseline, 1), fmt(c.cpuUsPerRequest.variant, 1), fmt(c.cpuRatio, 3), fmtRange(c.cpuRange), pct(c.cpuRatio - 1), `≤ ${pct(target, 0)}`, judge(c.cpuRatio, 1 + target, 'at most', cpuSpread).text]);
    rows.push([`${label}: peak (req/s)`, fmt(c.peakRps.baseline, 0), fmt(c.peakRps.variant, 0), fmt(c.peakRatio, 3), fmtRange(c.peakRange), pct(1 - c.peakRatio), `≤ ${pct(target, 0)}`, judge(c.peakRatio, 1 - target, 'at least', peakSpread).text]);
    rows.push([`${label}: CPU per request at peak (µs)`, fmt(c.peakCpuUsPerRequest.baseline, 1), fmt(c.peakCpuUsPerRequest.variant, 1), fmt(c.peakCpuRatio, 3), '', pct(c.peakCpuRatio - 1), `≤ ${pct(target, 0)}`, '(info)']);
    out[v] = { comparison: c, cpuOverhead: c.cpuRatio - 1, throughputOverhead: 1 - c.peakRatio };
  }
  log('\n' + table(['measure', 'no limiter', 'limiter', 'ratio', 'rounds range', 'overhead', 'target', 'verdict'], rows));
  log('  baseline: the same app with the agent created but no middleware mounted; the limiter never blocks (max 1e9).');
  out.share = reportLimiterShare(results, aa);
  return { ...out, rounds: results };
}

/** Our limiter against the anchor a user would otherwise pick (express-rate-limit used directly), with the A/A line's spread. */
function reportLimiterShare(results: RoundResult[], aa: boolean): unknown {
  const noise = aa ? compare(results, 'agent-idle', 'agent-idle-b') : undefined;
  const spread = noise ? aaSpread(noise.cpuRatios) : Number.NaN;
  const rows: string[][] = [];
  const verdicts: string[] = [];
  const out: Record<string, unknown> = { noiseFloor: noise, spread };
  for (const [ours, anchor, label] of [
    ['rl-memory', 'erl-memory', 'memory: agent.rateLimit vs express-rate-limit (its MemoryStore)'],
    ['rl-redis', 'erl-redis', "Redis: agent.rateLimit vs express-rate-limit over rate-limiter-flexible's RateLimiterRedis"],
  ] as const) {
    const c = compare(results, anchor, ours);
    const j = judge(c.cpuRatio, 1 + TARGETS.limiterShareOverAnchor, 'at most', spread);
    rows.push([label, fmt(c.cpuUsPerRequest.baseline, 1), fmt(c.cpuUsPerRequest.variant, 1), `×${fmt(c.cpuRatio, 3)}`, fmtRange(c.cpuRange), `×${fmt(c.peakRatio, 3)}`]);
    verdicts.push(`  verdict limiter share, ${ours} vs ${anchor}: CPU per request ×${fmt(c.cpuRatio, 3)} (target ≤ ×${1 + TARGETS.limiterShareOverAnchor}): ${j.text}`);
    out[ours] = { comparison: c, verdict: j.verdict };
  }
  log('\n' + table(['the limiter\'s own share', 'anchor CPU µs/req', 'ours CPU µs/req', 'CPU/req ratio', 'rounds', 'peak ratio'], rows));
  log(noise ? `  A/A line (agent-idle-b/agent-idle): CPU/req ×${fmt(noise.cpuRatio, 3)} (rounds ${fmtRange(noise.cpuRange)}), spread ±${pct(spread).slice(1)}` : '  no A/A line in this run (--no-aa or --quick): verdicts are unresolved');
  for (const line of verdicts) log(line);
  return out;
}

/**
 * With --profile: where each server spent its CPU over its last round (paced
 * and peak phases, self time), and, against its baseline, which functions
 * cost more per request.
 */
function reportProfiles(dir: string, json: Record<string, unknown>): unknown {
  const all = [
    ...((json.agentOverhead as { rounds?: RoundResult[] } | undefined)?.rounds ?? []),
    ...((json.rateLimit as { rounds?: RoundResult[] } | undefined)?.rounds ?? []),
  ];
  const last = new Map<string, RoundResult>();
  for (const r of all) if ((last.get(r.variant)?.round ?? 0) <= r.round) last.set(r.variant, r);
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const out: Record<string, unknown> = {};
  const loaded = new Map<string, { s: ReturnType<typeof summarise>; requests: number }>();
  log('\n== Profiles (each server over its last round: paced + peak phases, self time)');
  for (const r of last.values()) {
    const file = files.find((f) => f === `${r.variant}-${r.pid}.cpuprofile`);
    if (!file) continue;
    const s = summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    const requests = r.fixed.responses + r.peakResponses;
    loaded.set(r.variant, { s, requests });
    const areas = Object.entries(s.byArea).sort((a, b) => b[1] - a[1]).slice(0, 8);
    log(`\n${r.variant} (${join(relative(process.cwd(), dir), file)}, ${requests} requests): ${areas.map(([a, ms]) => `${a} ${pct(ms / s.totalMs).slice(1)}`).join(', ')}`);
    const agentFns = s.functions.filter((f) => f.where.startsWith('agent/') || f.where.startsWith('dist/agent/')).slice(0, 10);
    for (const f of agentFns) log(`  ${fmt((f.selfMs * 1000) / requests, 2).padStart(6)} µs/req  ${pct(f.share, 2).slice(1).padStart(6)}  ${f.name}  ${f.where}`);
    out[r.variant] = { file, requests, byArea: s.byArea, agentFunctions: agentFns };
  }
  for (const [variant, baseline] of [
    ['agent', 'bare'],
    ['agent-metrics', 'bare'],
    ['rl-memory', 'agent-idle'],
    ['rl-redis', 'agent-idle'],
  ] as const) {
    const v = loaded.get(variant);
    const b = loaded.get(baseline);
    if (!v || !b) continue;
    const d = diffPerRequest(b.s, b.requests, v.s, v.requests);
    log(`\n${variant} vs ${baseline}: sampled CPU ${fmt(d.busyUsPerRequest.variant, 1)} vs ${fmt(d.busyUsPerRequest.baseline, 1)} µs/req; largest increases per request:`);
    for (const f of d.functions.slice(0, 12)) log(`  ${(f.deltaUs >= 0 ? '+' : '') + fmt(f.deltaUs, 2)} µs  ${f.name}  ${f.where}`);
    out[`${variant} vs ${baseline}`] = { busyUsPerRequest: d.busyUsPerRequest, top: d.functions.slice(0, 25) };
  }
  return out;
}

