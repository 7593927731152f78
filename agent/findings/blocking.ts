/**
 * Blocking: the event loop held for more than `blockMs` by a route's request,
 * running synchronously (CPU) or waiting in a synchronous call (execSync, a
 * *Sync file call on a slow disk).
 *
 * How it stays cheap: from the first trace on, one unref()'d interval timer of `probeMs` (20 ms) that
 * reads the clock and compares it with when it expected to run: nothing is
 * hooked, nothing is allocated per request, and an idle app sees 50 wake-ups a
 * second of a few instructions and two reads of the thread's times each
 * (thread-time.ts). A tick that runs more than `blockMs` late (less the
 * probe's own period) means the loop may have been busy from the previous tick
 * until this one; that interval is kept in a small ring with how the main
 * thread spent it.
 *
 * Who held the loop: a late tick alone does not say. The loop was not in a
 * callback while it waited for events (the event loop's idle time), and a
 * thread that was runnable but not scheduled (its time waiting for a CPU:
 * the machine was busy with other processes) was held by the OS, not by the
 * app. What is left, the thread on a CPU or asleep inside a callback, is the
 * app's own hold (`heldMs`); only a hold of at least `blockMs` is a block.
 * Where the time waiting for a CPU is unknown (not Linux), the hold is the
 * time in callbacks.
 *
 * A process stopped (SIGSTOP, SIGTSTP: Ctrl-Z) in the middle of a callback
 * looks like a thread asleep in one: libuv counts the stop as time in
 * callbacks, and the thread was neither on a CPU nor waiting for one. The
 * SIGCONT that continued it tells them apart (thread-time.ts counts them): its
 * listener runs in the poll phase after the stop ended, so the probe judges a
 * late tick once that poll phase has run (in the same loop iteration's
 * setImmediate, only when a tick is late) and a late tick with a SIGCONT
 * since the previous tick is `stopped`: of its time in callbacks only the
 * CPU time is surely the app's. The lag itself still shows in the system
 * metrics (their event-loop delay histogram is the loop's, whoever held it).
 *
 * Traces are matched against the ring after their request ended and a tick has run since (so any
 * block inside the request is already known): the block is the request's if a handler or middleware
 * span of it overlaps the interval by at least `blockMs`, pinned at the innermost (shortest) such span,
 * unless the request was awaiting a db, Redis, HTTP, cache or rate-limit call through the whole hold
 * (then another request's code held the loop). Requests in flight together otherwise share a block.
 */
import { performance } from 'node:perf_hooks';
import type { SourceLocation, Span, Trace } from '../../protocol';
import { ms, short } from '../alerts/format';
import type { Observation } from './detect';
import { round1 } from './detect';
import { type Continuations, type ThreadClock, type ThreadTimes, continuations, threadClock } from './thread-time';

/** An interval the loop may have been blocked, in epoch ms, and how the main thread spent it. */
export interface Block {
  start: number;
  end: number;
  /** How late the tick ran (ms). */
  lagMs: number;
  /** In callbacks, not waiting for events (ms). */
  activeMs: number;
  /** The thread on a CPU (ms). */
  cpuMs: number;
  /** The thread runnable, waiting for a CPU (ms); NaN where unknown. */
  waitMs: number;
  /** The process was stopped and continued (a SIGCONT) in the interval: the time off the CPU may be the stop. */
  stopped: boolean;
}

/**
 * How long the app itself held the loop in the block: in callbacks, less the time the thread waited
 * for a CPU (ms); in a block the process was stopped in, the thread's time on a CPU only.
 */
export function heldMs(block: Block): number {
  const held = Math.max(0, Number.isNaN(block.waitMs) ? block.activeMs : block.activeMs - block.waitMs);
  return block.stopped ? Math.min(held, block.cpuMs) : held;
}

const MAX_BLOCKS = 64;

/** The last blocks the probe saw, oldest first. */
export class BlockRing {
  readonly blocks: Block[] = [];

  add(block: Block): void {
    this.blocks.push(block);
    if (this.blocks.length > MAX_BLOCKS) this.blocks.shift();
  }

  /** Forgets blocks that ended before `time`. */
  prune(time: number): void {
    while (this.blocks.length > 0 && this.blocks[0]!.end < time) this.blocks.shift();
  }
}

/** The timer that notices the loop ran late. `onTick(now, block?)` runs on every tick (after the tick's poll phase when it is late). */
export class LagProbe {
  private timer: NodeJS.Timeout | undefined;
  private last: number;
  private thread: ThreadClock | undefined;
  private continued: Continuations | undefined;
  /** SIGCONTs counted at the previous tick. */
  private continuedBefore = 0;
  /** At the previous tick: the loop's idle time and wall clock (performance.now(), ms), the thread's times read before and after them. */
  private lastIdle = 0;
  private lastWall = 0;
  private before: ThreadTimes = { cpuMs: 0, waitMs: 0 };
  private after: ThreadTimes = { cpuMs: 0, waitMs: 0 };
  private nowBefore: ThreadTimes = { cpuMs: 0, waitMs: 0 };
  private nowAfter: ThreadTimes = { cpuMs: 0, waitMs: 0 };

  constructor(
    private readonly probeMs: number,
    private readonly blockMs: number,
    private readonly clock: () => number,
    private readonly onTick: (now: number, block: Block | undefined) => void,
  ) {
    this.last = clock();
  }

  start(): void {
    this.thread = threadClock();
    this.continued = continuations();
    this.continuedBefore = this.continued?.count ?? 0;
    this.thread.read(this.before);
    this.last = this.clock();
    this.lastWall = performance.now();
    this.lastIdle = performance.nodeTiming.idleTime;
    this.thread.read(this.after);
    this.timer = setInterval(() => this.tick(), this.probeMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.thread?.close();
    this.thread = undefined;
    this.continued?.close();
    this.continued = undefined;
  }

  private tick(): void {
    const thread = this.thread!;
    // The thread's times are read on both sides of the clocks: a thread preempted between two reads
    // must not make the interval look like its own time (see block()).
    thread.read(this.nowBefore);
    const now = this.clock();
    const wall = performance.now();
    const idle = performance.nodeTiming.idleTime;
    thread.read(this.nowAfter);
    const lagMs = now - this.last - this.probeMs;
    // Blocked B ms makes the tick at least B - probeMs late: a candidate here, confirmed against the spans.
    const block = lagMs > this.blockMs - this.probeMs ? this.block(now, lagMs, wall - this.lastWall - (idle - this.lastIdle)) : undefined;
    this.last = now;
    this.lastWall = wall;
    this.lastIdle = idle;
    [this.before, this.nowBefore] = [this.nowBefore, this.before];
    [this.after, this.nowAfter] = [this.nowAfter, this.after];
    const continued = this.continued;
    const before = this.continuedBefore;
    this.continuedBefore = continued?.count ?? 0;
    if (!block || !continued) {
      this.onTick(now, block);
      return;
    }
    // A stop that ended in the interval has its SIGCONT's listener run in the first poll phase after
    // the stop, which may come after this tick (in the same timers phase): judge once it has run. A
    // SIGCONT counted between this tick and then may be of a stop that began after this tick: it
    // counts for the next interval too (a stop is never blamed; a block right after one is for its CPU time).
    setImmediate(() => {
      if (this.continued !== continued) return; // the probe stopped meanwhile
      block.stopped = continued.count !== before;
      this.onTick(now, block);
    });
  }

  /** The interval since the previous tick, counting the thread's CPU time at least and its wait for a CPU at most. */
  private block(now: number, lagMs: number, activeMs: number): Block {
    return {
      start: now - lagMs - this.probeMs,
      end: now,
      lagMs,
      activeMs: Math.max(0, activeMs),
      cpuMs: Math.max(0, this.nowBefore.cpuMs - this.after.cpuMs),
      waitMs: Math.max(0, this.nowAfter.waitMs - this.before.waitMs),
      stopped: false,
    };
  }
}

const overlap = (aStart: number, aEnd: number, bStart: number, bEnd: number): number => Math.max(0, Math.min(aEnd, bEnd) - Math.max(aStart, bStart));

interface Held {
  location: SourceLocation;
  blockedMs: number;
  longestMs: number;
  /** Of blockedMs, the thread's time on a CPU. */
  cpuMs: number;
  count: number;
}

/**
 * The blocks of the ring the app held (heldMs ≥ `blockMs`) that fall in the trace, each pinned at the
 * innermost handler or middleware span that overlaps it by at least `blockMs`. One observation per
 * span (the blocks inside it summed): the code ran synchronously when the thread spent most of the
 * hold on a CPU, else it waited in a synchronous call.
 */
export function attributeBlocks(trace: Trace, blocks: readonly Block[], blockMs: number): Observation[] {
  const tEnd = trace.startedAt + trace.durationMs;
  const bySpan = new Map<Span, Held>();
  for (const block of blocks) {
    if (block.end <= trace.startedAt || block.start >= tEnd) continue;
    const held = heldMs(block);
    if (held < blockMs) continue; // the loop waited for events, or the thread for a CPU: not the app's doing
    if (awaiting(trace, block, held)) continue;
    let best: Span | undefined;
    let bestOverlap = 0;
    for (const span of trace.spans) {
      if ((span.kind !== 'handler' && span.kind !== 'middleware') || !span.location) continue;
      const start = trace.startedAt + span.startMs;
      const o = overlap(start, start + span.durationMs, block.start, block.end);
      if (o < blockMs) continue;
      if (!best || span.durationMs < best.durationMs) {
        best = span;
        bestOverlap = o;
      }
    }
    if (!best) continue;
    const blockedMs = Math.min(bestOverlap, held);
    const cpuMs = Math.min(block.cpuMs, blockedMs);
    const entry = bySpan.get(best);
    if (entry) {
      entry.blockedMs += blockedMs;
      entry.longestMs = Math.max(entry.longestMs, blockedMs);
      entry.cpuMs += cpuMs;
      entry.count++;
    } else bySpan.set(best, { location: best.location!, blockedMs, longestMs: blockedMs, cpuMs, count: 1 });
  }
  const out: Observation[] = [];
  for (const [span, held] of bySpan) out.push(observation(trace, span, held, blockMs));
  return out;
}

/** Operations a request awaits (its code does not run while they are in flight); not `custom`, which may wrap synchronous code. */
const AWAITED = new Set<Span['kind']>(['db', 'redis', 'http', 'cache', 'ratelimit']);

/**
 * The request was awaiting an operation through the whole hold: one in flight since before the
 * interval began that ended (its callback ran) only after the hold could have ended. Another
 * request's synchronous work held the loop, not this one's.
 */
function awaiting(trace: Trace, block: Block, held: number): boolean {
  for (const span of trace.spans) {
    if (!AWAITED.has(span.kind)) continue;
    const start = trace.startedAt + span.startMs;
    if (start < block.start && start + span.durationMs >= block.start + held) return true;
  }
  return false;
}

function observation(trace: Trace, span: Span, { location, blockedMs, longestMs, cpuMs, count }: Held, blockMs: number): Observation {
  const ran = cpuMs >= blockedMs / 2;
  const times = count > 1 ? ` (${count} times)` : '';
  return {
    kind: 'blocking',
    severity: 'warning',
    endpoint: trace.endpoint,
    location,
    message: ran
      ? `the event loop was blocked ${ms(blockedMs)}${times} while ${short(span.name)} of ${short(trace.endpoint)} ran synchronously: every other request waited`
      : `the event loop was blocked ${ms(blockedMs)}${times} while ${short(span.name)} of ${short(trace.endpoint)} waited in a synchronous call (${ms(cpuMs)} of it on the CPU): every other request waited`,
    recommendation: ran
      ? 'move the CPU-heavy work off the event loop (a worker thread, a streaming or async API, or smaller chunks with setImmediate between them), or avoid sync calls (fs.*Sync, crypto *Sync, JSON of large bodies) on the request path'
      : 'use the asynchronous form of the call (fs.promises or fs callbacks instead of fs.*Sync, child_process.execFile or spawn instead of execSync, no Atomics.wait) on the request path',
    evidence: { blockedMs: round1(blockedMs), longestMs: round1(longestMs), cpuMs: round1(cpuMs), blocks: count, thresholdMs: blockMs, span: short(span.name) },
    requestId: trace.requestId,
  };
}
