/**
 * The server under test, run in a child process (one per variant and round)
 * so its CPU time is measured alone: `node --import tsx bench/server.ts <variant>`. Its CPU
 * time is the whole process's (`process.cpuUsage()`: every thread, so an agent's worker thread
 * counts); on Linux its answer also splits it by thread (the main thread, the agent's worker, the
 * rest: `threadCpu`). `BENCH_ROUTES=n` adds n routes `/r<i>/:id` (the heap measurement's app); `BENCH_SOURCE_MAPS=0`
 * turns off the source maps tsx turned on.
 *
 * Talks to the parent over IPC only (no admin route, so bare and agent apps
 * have the same route table):
 *   parent → { type: 'mark' | 'cpu' | 'heap' (snapshot?: file) | 'snapshot' | 'profile-stop' | 'close' }
 *   child  → { type: 'ready', port, agent? } · { type: 'cpu', cpu } · { type: 'heap', heapUsed } · { type: 'snapshot', users, edge, … } · { type: 'error', message }
 *
 * Every variant also times `/users/` requests in two places, with the same
 * cheap code in every variant so it cancels out of the ratios: at the HTTP
 * server ('request' event → response 'finish') and from a first Express
 * middleware (mounted before the agent's) to 'finish', the span the agent
 * itself measures. They are references for the agent's percentiles that,
 * unlike the client's, leave out the loopback and the client's own
 * scheduling delays. `mark` clears them.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { join } from 'node:path';
import v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';
import { assertNever } from '../protocol/messages';
import { addManyRoutes, addRoutes } from './lib/app';
import { type BenchAgent, agentServer, endpointFigures, loadAgent, startAgent } from './lib/adapter';
import { type HeapSnapshot, eachNode } from './lib/heap-snapshot';
import { percentiles } from './lib/stats';
import { VARIANTS, type Variant, specOf } from './lib/variants';
import { mountMiddleware } from './lib/middleware';

export type ChildMessage =
  | { type: 'ready'; port: number; agent?: { port: number; token: string } }
  /** `threads`: CPU time so far by thread (µs), where /proc tells it (Linux). */
  | { type: 'cpu'; cpu: NodeJS.CpuUsage; threads?: ThreadCpu }
  /** `worker`: the agent's worker thread's heap (the sum of its heap snapshot's self sizes), when it runs one. */
  | { type: 'heap'; heapUsed: number; arrayBuffers: number; worker?: number }
  | {
      type: 'snapshot';
      users?: { count: number; p50: number; p95: number; p99: number };
      /** The server-side references for the same requests since the last mark. */
      edge: { http: Pcts; app: Pcts };
      endpoints: number;
      rateLimits: Array<{ name: string; store: string; allowed: number; limited: number; storeErrors: number }>;
    }
  | { type: 'error'; message: string };

type Pcts = { count: number; p50: number; p95: number; p99: number };

/** CPU time by thread (µs): the app's main thread and the agent's worker (the thread it names `routelens`). */
export interface ThreadCpu {
  main: number;
  agent: number;
  /**
   * The main thread's kernel accounting so far: its user and system time in clock ticks (/proc
   * stat; only their ratio is used), and how often it gave up its CPU (voluntary: it waited, for
   * epoll or a lock) or was taken off it (involuntary: preempted), from /proc status.
   */
  mainKernel?: { userTicks: number; systemTicks: number; voluntary: number; involuntary: number };
  /** The main thread's garbage-collection pauses so far (µs), from `gc` performance entries (a part of its user time). */
  mainGc?: number;
}

/** `heap` with `snapshot`: also writes a heap snapshot (v8.writeHeapSnapshot) to that file after the collections. */
export type ParentMessage = { type: 'mark' } | { type: 'cpu' } | { type: 'heap'; snapshot?: string } | { type: 'snapshot' } | { type: 'profile-stop' } | { type: 'close' };

export const USERS_ENDPOINT = 'GET /users/:id';

function send(msg: ChildMessage): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  const variant = process.argv[2] as Variant;
  if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}`);
  const redisUrl = process.env.BENCH_REDIS_URL;
  // tsx turns Node's source maps on; an app run by node is without them, and with them every module loaded from here
  // (the agent's bundle among them) would keep its parsed map. BENCH_SOURCE_MAPS=0 turns them off again (the heap readings).
  if (process.env.BENCH_SOURCE_MAPS === '0') process.setSourceMapsEnabled(false);
  const discoveryDir = mkdtempSync(join(tmpdir(), 'routelens-bench-'));

   
  const express = require('express') as typeof import('express');
  const spec = specOf(variant);
  let agent: BenchAgent | undefined;
  if (spec.agent !== 'none') {
    const { mod, error } = loadAgent();
    if (!mod) throw new Error(error);
    agent = startAgent(mod, { name: `bench-${variant}`, discoveryDir, express, redis: spec.redis ? redisUrl : undefined }, spec.agent === 'metrics' ? { server: false } : {});
  }
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  let appEdge: number[] = [];
  app.use((req, res, next) => {
    if (req.url.startsWith('/users/')) {
      const t0 = performance.now();
      res.once('finish', () => appEdge.push(performance.now() - t0));
    }
    next();
  });
  await mountMiddleware(app, spec.middleware, agent, redisUrl);
  addRoutes(app, express);
  addManyRoutes(app, Number(process.env.BENCH_ROUTES ?? 0));

  let edge: number[] = [];
  const server = http.createServer((req, res) => {
    if (req.url !== undefined && req.url.startsWith('/users/')) {
      const t0 = performance.now();
      res.once('finish', () => edge.push(performance.now() - t0));
    }
    app(req, res);
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.keepAliveTimeout = 60_000;
  const port = (server.address() as AddressInfo).port;
  const agentAddr = agent ? await agentServer(agent, discoveryDir) : undefined;

  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    if (agent) await agent.close();
    rmSync(discoveryDir, { recursive: true, force: true });
    process.disconnect?.();
  };

  // The main isolate's GC pauses, summed: a part of the main thread's time the agent's heap and allocations can grow.
  let gcUs = 0;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcUs += e.duration * 1000;
  }).observe({ entryTypes: ['gc'] });

  const profileDir = process.env.BENCH_PROFILE_DIR;
  const profiler = profileDir ? phaseProfiler(join(profileDir, `${variant}-${process.pid}.cpuprofile`)) : undefined;

  process.on('message', (msg: ParentMessage) => {
    switch (msg.type) {
      case 'mark':
        edge = [];
        appEdge = [];
        profiler?.start();
        break;
      case 'cpu':
        send({ type: 'cpu', cpu: process.cpuUsage(), threads: threadCpu(gcUs) });
        break;
      case 'heap':
        void settledHeap().then(async (m) => {
          if (msg.snapshot) v8.writeHeapSnapshot(msg.snapshot);
          const worker = await workerHeap(agent);
          send({ type: 'heap', ...m, ...(worker === undefined ? {} : { worker }) });
        });
        break;
      case 'profile-stop':
        profiler?.stop();
        break;
      case 'snapshot': {
        if (!agent) {
          send({ type: 'snapshot', endpoints: 0, rateLimits: [], edge: { http: percentiles(edge), app: percentiles(appEdge) } });
          break;
        }
        const snap = agent.snapshot();
        const e = endpointFigures(snap, USERS_ENDPOINT);
        send({
          type: 'snapshot',
          endpoints: snap.endpoints.length,
          edge: { http: percentiles(edge), app: percentiles(appEdge) },
          users: e && { count: e.count, p50: e.p50, p95: e.p95, p99: e.p99 },
          rateLimits: snap.rateLimits.map((r) => ({ name: r.name, store: r.store, allowed: r.allowed, limited: r.limited, storeErrors: r.storeErrors })),
        });
        break;
      }
      case 'close':
        close().then(
          () => process.exit(0),
          (err: unknown) => {
            send({ type: 'error', message: String(err) });
            process.exit(1);
          },
        );
        break;
      default:
        assertNever(msg, 'parent message');
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port, agent: agentAddr });
}

/**
 * The main thread's heap in use after full collections (with --expose-gc; else as it is), bytes, and the memory of its
 * ArrayBuffers (typed arrays longer than 64 bytes keep their contents outside the heap).
 */
async function settledHeap(): Promise<{ heapUsed: number; arrayBuffers: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return { heapUsed, arrayBuffers };
}

/**
 * The agent's worker thread's heap, bytes: the self sizes of its heap snapshot summed (taking one
 * collects first). Node 20 has no heap statistics of another thread; the worker is the agent's
 * private field, read here as the tests read it. Undefined without a worker.
 */
async function workerHeap(agent: BenchAgent | undefined): Promise<number | undefined> {
  const worker = (agent as { back?: { worker?: Worker; fallback?: unknown } } | undefined)?.back;
  if (worker?.worker === undefined || worker.fallback !== undefined) return undefined;
  const stream = await worker.worker.getHeapSnapshot();
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  let total = 0;
  eachNode(JSON.parse(Buffer.concat(chunks).toString('utf8')) as HeapSnapshot, (_type, _name, selfSize) => {
    total += selfSize;
  });
  return total;
}

/** Profiles from `mark` to `profile-stop` (a round's paced and peak phases) with the inspector, so start-up is left out. */
function phaseProfiler(file: string): { start(): void; stop(): void } {
  const session = new inspector.Session();
  session.connect();
  let running = false;
  return {
    start() {
      if (running) return;
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.start'));
    },
    stop() {
      if (!running) return;
      running = false;
      session.post('Profiler.stop', (err, res) => {
        if (!err) writeFileSync(file, JSON.stringify(res.profile));
      });
    },
  };
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
});

/**
 * This process's main thread's and the agent's worker's CPU time so far (µs), from each thread's
 * /proc schedstat (its time on a CPU, in ns), with the main thread's kernel accounting and its GC
 * pauses so far (`mainGc`, µs); undefined where there is no /proc (not Linux).
 */
function threadCpu(mainGc: number): ThreadCpu | undefined {
  const read = (tid: string, file: string): string | undefined => {
    try {
      return readFileSync(`/proc/self/task/${tid}/${file}`, 'utf8');
    } catch {
      return undefined; // the thread ended while listed
    }
  };
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  const out: ThreadCpu = { main: 0, agent: 0, mainGc };
  for (const tid of tids) {
    const ns = Number(read(tid, 'schedstat')?.split(' ')[0]);
    if (!Number.isFinite(ns)) continue;
    if (Number(tid) === process.pid) {
      out.main += ns / 1000;
      const kernel = mainKernel(read(tid, 'stat'), read(tid, 'status'));
      if (kernel) out.mainKernel = kernel;
    } else if (read(tid, 'comm')?.trim() === 'routelens') out.agent += ns / 1000;
  }
  return out;
}

/** A thread's ticks in user and system mode (/proc stat's 14th and 15th fields) and its context switches (/proc status). */
function mainKernel(stat: string | undefined, status: string | undefined): ThreadCpu['mainKernel'] {
  if (stat === undefined || status === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // after "pid (comm) ": field 3 onwards
  const count = (name: string): number => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(status)?.[1]);
  const kernel = { userTicks: Number(fields[11]), systemTicks: Number(fields[12]), voluntary: count('voluntary_ctxt_switches'), involuntary: count('nonvoluntary_ctxt_switches') };
  return Object.values(kernel).every(Number.isFinite) ? kernel : undefined;
}
