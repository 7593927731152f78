/**
 * Sections 1, 3 and 4: an Express server in a child process per variant,
 * driven by the parent's load generator over loopback; figures are medians
 * over rounds of per-round ratios. Two designs: runAlternating (sections 1
 * and 3) runs every variant's server at once and alternates them in slices of
 * about a second; runSteady (section 4) loads one server at
 * a time through a whole warm-up, paced and peak run, as a server under
 * sustained load runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { Connections, type PlannedRequest } from './lib/client';
import { USERS, mixedPlan } from './lib/plan';
import { median, percentiles, relDiff } from './lib/stats';
import { type StreamClient, connectStream } from './lib/stream';
import { type Variant, specOf } from './lib/variants';
import type { ChildMessage, ParentMessage, ThreadCpu } from './server';

export interface HttpSettings {
  rounds: number;
  warmupMs: number;
  /** After the peak phase, every server idles this long together (no requests): its CPU then. */
  idleMs: number;
  fixedMs: number;
  peakMs: number;
  /** Phases are cut into slices of about this long that alternate between the servers. */
  sliceMs: number;
  connections: number;
  /** Requests per second for the fixed-rate phase. */
  rate: number;
  redisUrl?: string;
  /** Where children write a CPU profile of their paced phase (--profile). */
  profileDir?: string;
  log: (line: string) => void;
}

const SERVER = join(__dirname, 'server.ts');

/** What a caller adds to a variant's child: node flags (`--expose-gc`) and environment (`BENCH_ROUTES`). */
export interface ChildExtras {
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** A command the child runs under, before node (`valgrind --tool=callgrind …`), and how long it may then take to start (ms, default 30 s). */
  wrapper?: { argv: string[]; readyTimeoutMs: number };
}

/** A server child (bench/server.ts) and its IPC. */
export class Child {
  private waiters: Array<{ type: ChildMessage['type']; resolve: (m: ChildMessage) => void }> = [];
  get pid(): number {
    return this.proc.pid ?? 0;
  }

  private constructor(
    private readonly proc: ChildProcess,
    readonly ready: Extract<ChildMessage, { type: 'ready' }>,
  ) {
    proc.on('message', (m: ChildMessage) => {
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(m);
    });
  }

  /** The variant's child, with its own environment (variants.ts) and `extra` (node flags, environment) on top. */
  static async spawn(variant: Variant, settings: Pick<HttpSettings, 'redisUrl' | 'profileDir'>, extra: ChildExtras = {}): Promise<Child> {
    const flags = [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), ...(extra.nodeArgs ?? [])];
    const argv = [...(extra.wrapper?.argv ?? []), process.execPath, ...flags, '--import', 'tsx', SERVER, variant];
    const proc = spawn(argv[0]!, argv.slice(1), {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, BENCH_REDIS_URL: settings.redisUrl ?? '', BENCH_PROFILE_DIR: settings.profileDir ?? '', ...specOf(variant).env, ...extra.env },
    });
    const first = await new Promise<ChildMessage>((resolve, reject) => {
      const limit = extra.wrapper?.readyTimeoutMs ?? 30_000;
      const t = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${variant} server did not start within ${limit / 1000} s`));
      }, limit);
      proc.once('message', (m: ChildMessage) => {
        clearTimeout(t);
        resolve(m);
      });
      proc.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`${variant} server exited with ${code} before it was ready`));
      });
    });
    if (first.type === 'error') {
      proc.kill();
      throw new Error(`${variant} server failed: ${first.message}`);
    }
    if (first.type !== 'ready') throw new Error(`unexpected first message ${first.type}`);
    return new Child(proc, first);
  }

  /** The child's CPU time so far (user + system, µs), from its own `process.cpuUsage()`. */
  async cpuUs(): Promise<number> {
    return (await this.cpu()).total;
  }

  /** The child's CPU time so far (µs): the whole process's, and by thread where the child can tell (Linux). */
  async cpu(): Promise<{ total: number; threads?: ThreadCpu }> {
    const { cpu, threads } = await this.ask({ type: 'cpu' }, 'cpu');
    return { total: cpu.user + cpu.system, threads };
  }

  send(msg: ParentMessage): void {
    this.proc.send(msg);
  }

  ask<T extends ChildMessage['type']>(msg: ParentMessage, type: T, timeoutMs = 10_000): Promise<Extract<ChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${type} answer from the server`)), timeoutMs);
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m as Extract<ChildMessage, { type: T }>);
        },
      });
      this.proc.send(msg);
    });
  }

  async close(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.send({ type: 'close' } satisfies ParentMessage);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/** One variant in one round. */
export interface RoundResult {
  variant: Variant;
  round: number;
  /** Server CPU (user + system) per completed request at the fixed rate, microseconds. */
  cpuUsPerRequest: number;
  fixed: { responses: number; rateAchieved: number; queued: number; errors: number; statuses: Record<string, number> };
  /** Unthrottled: completed requests per second. */
  peakRps: number;
  /** Server CPU per completed request during the unthrottled phase, microseconds. */
  peakCpuUsPerRequest: number;
  peakResponses: number;
  /** Server CPU per second of wall time while no requests came (the idle phase), ms. */
  idleCpuMsPerS: number;
  /** Client-side latency of `/users/:id` at the fixed rate. */
  clientUsers: Percentiles & { count: number };
  /** Server-side timing of the same requests, every variant: http 'request' → 'finish', and first middleware → 'finish'. */
  edgeUsers?: { http: Percentiles & { count: number }; app: Percentiles & { count: number } };
  /** The agent's own figures for `GET /users/:id` (agent variant only). */
  agentUsers?: Percentiles & { count: number };
  stream?: StreamClient['counts'];
  /** The server child's pid (names its .cpuprofile under --profile). */
  pid: number;
  notes: string[];
}

/** One running server child and what the parent keeps about it. */
export interface Server {
  variant: Variant;
  child: Child;
  /** Keep-alive connections to it, open for its round (the plan's cursor carries over between slices). */
  load: Connections;
  stream?: StreamClient;
  notes: string[];
}

/** Spawns a variant's child and opens its keep-alive connections (and, when asked, a stream client). */
export async function startServer(variant: Variant, s: Pick<HttpSettings, 'connections' | 'redisUrl' | 'profileDir'>, withStream: boolean, extra: ChildExtras & { plan?: (port: number) => PlannedRequest[] } = {}): Promise<Server> {
  const child = await Child.spawn(variant, s, extra);
  const load = await Connections.open(child.ready.port, (extra.plan ?? mixedPlan)(child.ready.port), s.connections);
  const server: Server = { variant, child, load, notes: [] };
  if (withStream) {
    if (!child.ready.agent) server.notes.push('agent address not found: no stream client');
    else server.stream = await connectStream(child.ready.agent.port, child.ready.agent.token);
  }
  return server;
}

export async function stopServer(server: Server): Promise<void> {
  server.stream?.close();
  server.load.close();
  await server.child.close();
}

/** A phase's load and the server's CPU time during it, summed over its slices. */
interface PhaseTotals {
  cpuUs: number;
  elapsedMs: number;
  responses: number;
  errors: number;
  queued: number;
  statuses: Record<string, number>;
  /** Client latencies of `/users/:id`. */
  users: number[];
}

/**
 * One phase for every server, cut into slices of s.sliceMs that alternate between the servers
 * (ABBA: the order reverses every slice), so a change in the machine's speed lasting longer
 * than a slice hits every server alike. Each slice is bracketed by the server's own
 * `process.cpuUsage()`.
 */
async function slicedPhase(order: Server[], durationMs: number, s: HttpSettings, rate?: number): Promise<Map<Server, PhaseTotals>> {
  const totals = new Map<Server, PhaseTotals>(order.map((srv) => [srv, { cpuUs: 0, elapsedMs: 0, responses: 0, errors: 0, queued: 0, statuses: {}, users: [] }]));
  const slices = Math.max(1, Math.round(durationMs / s.sliceMs));
  const sliceMs = durationMs / slices;
  for (let i = 0; i < slices; i++) {
    for (const srv of i % 2 === 0 ? order : [...order].reverse()) {
      const t = totals.get(srv)!;
      const cpu0 = await srv.child.cpuUs();
      const r = await srv.load.run({ durationMs: sliceMs, rate, maxRequests: rate ? Math.ceil((rate * sliceMs) / 1000) : undefined });
      t.cpuUs += (await srv.child.cpuUs()) - cpu0;
      t.elapsedMs += r.elapsedMs;
      t.responses += r.responses;
      t.errors += r.errors;
      t.queued += r.queued;
      for (const [status, n] of Object.entries(r.statuses)) t.statuses[status] = (t.statuses[status] ?? 0) + n;
      for (const l of r.latencies[USERS] ?? []) t.users.push(l);
    }
  }
  return totals;
}

/** Every server idle at once (no requests, connections kept): CPU ms per second of each, after a second to settle. */
async function idlePhase(servers: Server[], durationMs: number): Promise<Map<Server, number>> {
  await new Promise((r) => setTimeout(r, 1000));
  const t0 = performance.now();
  const before = await Promise.all(servers.map((srv) => srv.child.cpuUs()));
  await new Promise((r) => setTimeout(r, durationMs));
  const after = await Promise.all(servers.map((srv) => srv.child.cpuUs()));
  const seconds = (performance.now() - t0) / 1000;
  return new Map(servers.map((srv, i) => [srv, (after[i]! - before[i]!) / 1000 / seconds]));
}

/** The paced phase's figures from a server's totals, its agent's snapshot and the server-side references. */
async function pacedResult(srv: Server, round: number, t: PhaseTotals, notes: string[]): Promise<Omit<RoundResult, 'peakRps' | 'peakCpuUsPerRequest' | 'peakResponses' | 'idleCpuMsPerS'>> {
  const { child, variant } = srv;
  const snap = await child.ask({ type: 'snapshot' }, 'snapshot');
  let agentUsers: RoundResult['agentUsers'];
  if (specOf(variant).middleware === 'agent') {
    agentUsers = snap.users;
    if (!snap.users) notes.push('agent snapshot has no GET /users/:id endpoint');
  }
  if (variant === 'rl-memory' || variant === 'rl-redis') {
    const rl = snap.rateLimits[0];
    if (!rl) notes.push('no limiter in the snapshot');
    else {
      if (rl.store !== (variant === 'rl-redis' ? 'redis' : 'memory')) notes.push(`limiter store is ${rl.store}`);
      if (rl.storeErrors > 0) notes.push(`${rl.storeErrors} store errors so far (insurance path taken)`);
      if (rl.limited > 0) notes.push(`${rl.limited} requests limited`);
    }
  }
  return {
    variant,
    round,
    cpuUsPerRequest: t.cpuUs / Math.max(1, t.responses),
    fixed: { responses: t.responses, rateAchieved: t.responses / (t.elapsedMs / 1000), queued: t.queued, errors: t.errors, statuses: t.statuses },
    clientUsers: percentiles(t.users),
    agentUsers,
    edgeUsers: snap.edge,
    stream: srv.stream ? { ...srv.stream.counts } : undefined,
    pid: child.pid,
    notes,
  };
}

/** A quick unthrottled run against bare Express, to pick a fixed rate well below saturation. */
export async function calibrate(s: HttpSettings, durationMs: number): Promise<number> {
  const srv = await startServer('bare', s, false);
  try {
    await srv.load.run({ durationMs: Math.min(1000, durationMs) });
    const r = await srv.load.run({ durationMs });
    return r.responses / (r.elapsedMs / 1000);
  } finally {
    await stopServer(srv);
  }
}

export interface Comparison {
  baseline: Variant;
  variant: Variant;
  /** Median over rounds of the per-round ratio variant/baseline (paired within a round). */
  cpuRatio: number;
  peakRatio: number;
  /** Server CPU per request at peak, variant/baseline (less sensitive than req/s to the share of CPU the server got). */
  peakCpuRatio: number;
  /** Lowest and highest per-round ratios: the spread shows how noisy the machine was. */
  cpuRange: [number, number];
  peakRange: [number, number];
  /** The per-round ratios themselves (the A/A line's spread is read from them). */
  cpuRatios: number[];
  peakRatios: number[];
  cpuUsPerRequest: { baseline: number; variant: number };
  peakRps: { baseline: number; variant: number };
  peakCpuUsPerRequest: { baseline: number; variant: number };
}

/**
 * Runs the variants side by side, s.rounds rounds. A round starts a fresh server child per
 * variant and warms each up, then runs a paced phase and a peak phase, each cut into slices
 * that alternate between the servers (slicedPhase), the starting server rotating from round to
 * round; a round's figures are its slices' sums, and the children are stopped at its end.
 * Alternating slices of about a second, rather than whole phases, lets a change in the
 * machine's speed hit every variant alike; fresh children per round keep one process's own
 * luck (where the JIT and the allocator happened to put things: a few per cent, lasting for the
 * process's life) from deciding every round. The medians are taken over the per-round ratios.
 */
export async function runAlternating(variants: Variant[], s: HttpSettings, streamFor: Variant[] = []): Promise<RoundResult[]> {
  const results: RoundResult[] = [];
  for (let round = 1; round <= s.rounds; round++) {
    const servers: Server[] = [];
    try {
      for (const v of variants) servers.push(await startServer(v, s, streamFor.includes(v)));
      for (const srv of servers) await srv.load.run({ durationMs: s.warmupMs });
      const order = servers.map((_, i) => servers[(i + round - 1) % servers.length]!);
      const notes = new Map<Server, string[]>();
      for (const srv of order) {
        const n = [...srv.notes];
        if (srv.stream) {
          const r = await srv.stream.command('reset');
          if (!r.ok) n.push(`reset failed (${r.error}): agent figures include earlier phases`);
        }
        srv.child.send({ type: 'mark' });
        notes.set(srv, n);
      }
      const paced = await slicedPhase(order, s.fixedMs, s, s.rate);
      const pacedResults = new Map<Server, Awaited<ReturnType<typeof pacedResult>>>();
      for (const srv of order) pacedResults.set(srv, await pacedResult(srv, round, paced.get(srv)!, notes.get(srv)!));
      const peak = await slicedPhase(order, s.peakMs, s);
      const idle = await idlePhase(order, s.idleMs);
      for (const srv of order) {
        srv.child.send({ type: 'profile-stop' });
        const p = peak.get(srv)!;
        const r: RoundResult = {
          ...pacedResults.get(srv)!,
          peakRps: p.responses / (p.elapsedMs / 1000),
          peakCpuUsPerRequest: p.cpuUs / Math.max(1, p.responses),
          peakResponses: p.responses,
          idleCpuMsPerS: idle.get(srv)!,
        };
        results.push(r);
        s.log(
          `  round ${round} ${r.variant.padEnd(13)} cpu ${r.cpuUsPerRequest.toFixed(1)} µs/req at ${r.fixed.rateAchieved.toFixed(0)} req/s` +
            ` · peak ${r.peakRps.toFixed(0)} req/s (${r.peakCpuUsPerRequest.toFixed(1)} µs/req) · client p50 ${r.clientUsers.p50.toFixed(3)} ms` +
            (r.agentUsers ? ` · agent p50 ${r.agentUsers.p50.toFixed(3)} ms` : '') +
            (r.notes.length ? ` · ${r.notes.join('; ')}` : ''),
        );
      }
    } finally {
      for (const srv of servers) await stopServer(srv);
    }
  }
  return results;
}

/** What compare() reads of a round: both designs' results have it. */
export type RatioRound = Pick<RoundResult, 'variant' | 'round' | 'cpuUsPerRequest' | 'peakRps' | 'peakCpuUsPerRequest'>;

export function compare(results: RatioRound[], baseline: Variant, variant: Variant): Comparison {
  const rounds = [...new Set(results.map((r) => r.round))];
  const pick = (v: Variant, round: number) => results.find((r) => r.variant === v && r.round === round);
  const cpuRatios: number[] = [];
  const peakRatios: number[] = [];
  const peakCpuRatios: number[] = [];
  for (const round of rounds) {
    const b = pick(baseline, round);
    const x = pick(variant, round);
    if (!b || !x) continue;
    cpuRatios.push(x.cpuUsPerRequest / b.cpuUsPerRequest);
    peakRatios.push(x.peakRps / b.peakRps);
    peakCpuRatios.push(x.peakCpuUsPerRequest / b.peakCpuUsPerRequest);
  }
  const of = (v: Variant) => results.filter((r) => r.variant === v);
  return {
    baseline,
    variant,
    cpuRatio: median(cpuRatios),
    peakRatio: median(peakRatios),
    peakCpuRatio: median(peakCpuRatios),
    cpuRange: [Math.min(...cpuRatios), Math.max(...cpuRatios)],
    peakRange: [Math.min(...peakRatios), Math.max(...peakRatios)],
    cpuRatios,
    peakRatios,
    cpuUsPerRequest: { baseline: median(of(baseline).map((r) => r.cpuUsPerRequest)), variant: median(of(variant).map((r) => r.cpuUsPerRequest)) },
    peakRps: { baseline: median(of(baseline).map((r) => r.peakRps)), variant: median(of(variant).map((r) => r.peakRps)) },
    peakCpuUsPerRequest: { baseline: median(of(baseline).map((r) => r.peakCpuUsPerRequest)), variant: median(of(variant).map((r) => r.peakCpuUsPerRequest)) },
  };
}

export interface SteadySettings {
  rounds: number;
  /** Requests per second of the paced phase. */
  rate: number;
  warmupMs: number;
  pacedMs: number;
  peakMs: number;
  connections: number;
  log: (line: string) => void;
}

/** One variant in one round of runSteady. */
export interface SteadyRound extends RatioRound {
  paced: { responses: number; rateAchieved: number };
  /**
   * The paced phase's CPU per request (µs) by thread, where the child can tell (Linux): the app's
   * main thread, the agent's worker, and the rest (V8's and libuv's helpers: GC, compilers, I/O).
   */
  threads?: { main: number; agent: number; other: number; mainTime?: MainThreadTime };
  peakResponses: number;
}

/**
 * One server at a time, in a steady state. Per round, each variant in turn (the order reversed
 * every other round): a fresh server child (with a stream client attached where variants.ts says so), `warmupMs`
 * at the paced rate, then `pacedMs` at that rate (server CPU per request), then `peakMs` closed
 * loop (peak throughput, and CPU per request there). Unlike runAlternating's slices, no server
 * idles between its phases while others are loaded, so what it pays is what a server under
 * sustained load pays; a change in the machine's speed lasting a whole server's run is not
 * cancelled within a round, so its rounds spread more (the A/A variant shows how much).
 */
export async function runSteady(variants: Variant[], s: SteadySettings): Promise<SteadyRound[]> {
  const results: SteadyRound[] = [];
  for (let round = 1; round <= s.rounds; round++) {
    const line: string[] = [];
    for (const variant of round % 2 === 0 ? [...variants].reverse() : variants) {
      const server = await startServer(variant, s, specOf(variant).stream === true);
      const { child, load } = server;
      try {
        await load.run({ durationMs: s.warmupMs, rate: s.rate, maxRequests: Math.ceil((s.rate * s.warmupMs) / 1000) });
        const t0 = await child.cpu();
        const paced = await load.run({ durationMs: s.pacedMs, rate: s.rate, maxRequests: Math.ceil((s.rate * s.pacedMs) / 1000) });
        const t1 = await child.cpu();
        const c1 = t1.total;
        const peak = await load.run({ durationMs: s.peakMs });
        const c2 = await child.cpuUs();
        if (paced.errors > 0 || peak.errors > 0) throw new Error(`${variant}: ${paced.errors + peak.errors} failed requests`);
        const perRequest = (us: number): number => us / Math.max(1, paced.responses);
        const pacedUs = c1 - t0.total;
        const r: SteadyRound = {
          variant,
          round,
          cpuUsPerRequest: perRequest(pacedUs),
          ...(t0.threads && t1.threads ? { threads: byThread(pacedUs, t0.threads, t1.threads, perRequest) } : {}),
          peakRps: peak.responses / (peak.elapsedMs / 1000),
          peakCpuUsPerRequest: (c2 - c1) / Math.max(1, peak.responses),
          paced: { responses: paced.responses, rateAchieved: paced.responses / (paced.elapsedMs / 1000) },
          peakResponses: peak.responses,
        };
        results.push(r);
        line.push(`${variant} ${r.cpuUsPerRequest.toFixed(1)} µs/req · ${r.peakRps.toFixed(0)} req/s (${r.peakCpuUsPerRequest.toFixed(1)} µs/req)`);
      } finally {
        await stopServer(server);
      }
    }
    s.log(`  round ${round}: ${line.join(' | ')}`);
  }
  return results;
}

/**
 * What the main thread's time is made of, per request of a phase: in the kernel's accounting, its
 * CPU time in system mode (µs; its schedstat time split by the phase's user and system ticks) and
 * its context switches, voluntary (it waited: epoll, a lock) and involuntary (it was preempted);
 * and, from V8, the garbage-collection pauses in its time.
 */
export interface MainThreadTime {
  system: number;
  voluntary: number;
  involuntary: number;
  /** Its garbage-collection pauses (µs per request; part of its user time), where the child reports them. */
  gc?: number;
}

/** A phase's CPU (µs, every thread) split by thread between two readings, each part through `per`: the rest is V8's and libuv's helpers. */
function byThread(totalUs: number, from: ThreadCpu, to: ThreadCpu, per: (us: number) => number): NonNullable<SteadyRound['threads']> {
  const main = to.main - from.main;
  const agent = to.agent - from.agent;
  const out: NonNullable<SteadyRound['threads']> = { main: per(main), agent: per(agent), other: per(totalUs - main - agent) };
  const [k0, k1] = [from.mainKernel, to.mainKernel];
  if (k0 && k1) {
    const system = k1.systemTicks - k0.systemTicks;
    const ticks = k1.userTicks - k0.userTicks + system;
    out.mainTime = { system: per(ticks > 0 ? (main * system) / ticks : 0), voluntary: per(k1.voluntary - k0.voluntary), involuntary: per(k1.involuntary - k0.involuntary) };
    if (from.mainGc !== undefined && to.mainGc !== undefined) out.mainTime.gc = per(to.mainGc - from.mainGc);
  }
  return out;
}

/** Agent vs client (and vs the server-side references) percentiles for /users/:id: medians over rounds, and relative differences. */
export function percentileAgreement(
  results: RoundResult[],
): Array<{ name: 'p50' | 'p95' | 'p99'; agent: number; client: number; diff: number; http: number; httpDiff: number; app: number; appDiff: number }> {
  const withAgent = results.filter((r) => r.agentUsers && r.variant === 'agent');
  return (['p50', 'p95', 'p99'] as const).map((name) => {
    const agent = median(withAgent.map((r) => r.agentUsers![name]));
    const client = median(withAgent.map((r) => r.clientUsers[name]));
    const http = median(withAgent.map((r) => r.edgeUsers?.http[name] ?? Number.NaN));
    const app = median(withAgent.map((r) => r.edgeUsers?.app[name] ?? Number.NaN));
    return { name, agent, client, diff: relDiff(agent, client), http, httpDiff: relDiff(agent, http), app, appDiff: relDiff(agent, app) };
  });
}
