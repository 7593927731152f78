/**
 * Blocking: the event loop blocked for more than `blockMs` while a route's
 * request ran synchronously.
 *
 * How it stays cheap: from the first trace on, one unref()'d interval timer of `probeMs` (20 ms) that
 * reads the clock and compares it with when it expected to run: nothing is
 * hooked, nothing is allocated per request, and an idle app sees 50 wake-ups a
 * second of a few instructions each. A tick that runs more than `blockMs` late
 * (less the probe's own period) means the loop may have been busy from the
 * previous tick until this one; that interval is kept in a small ring. Traces are matched against the ring after
 * their request ended and a tick has run since (so any block inside the request
 * is already known): the block is the request's if a handler or middleware span
 * of it overlaps the interval by at least `blockMs`, pinned at the innermost
 * (shortest) such span.
 */
import type { SourceLocation, Span, Trace } from '../../protocol';
import { ms, short } from '../alerts/format';
import type { Observation } from './detect';
import { round1 } from './detect';

/** An interval the loop was busy, in epoch ms. */
export interface Block {
  start: number;
  end: number;
  /** How late the tick ran (ms): at least this long the loop was blocked. */
  lagMs: number;
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

/** The timer that notices the loop ran late. `onTick(now, block?)` runs on every tick. */
export class LagProbe {
  private timer: NodeJS.Timeout | undefined;
  private last: number;

  constructor(
    private readonly probeMs: number,
    private readonly blockMs: number,
    private readonly clock: () => number,
    private readonly onTick: (now: number, block: Block | undefined) => void,
  ) {
    this.last = clock();
  }

  start(): void {
    this.last = this.clock();
    this.timer = setInterval(() => this.tick(), this.probeMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = this.clock();
    const lagMs = now - this.last - this.probeMs;
    this.last = now;
    // Blocked B ms makes the tick at least B - probeMs late: a candidate here, confirmed against the spans.
    this.onTick(now, lagMs > this.blockMs - this.probeMs ? { start: now - lagMs - this.probeMs, end: now, lagMs } : undefined);
  }
}

const overlap = (aStart: number, aEnd: number, bStart: number, bEnd: number): number => Math.max(0, Math.min(aEnd, bEnd) - Math.max(aStart, bStart));

/**
 * The blocks of the ring that fall in the trace, each pinned at the innermost handler or
 * middleware span that overlaps it by at least `blockMs`. One observation per span (the blocks
 * inside it summed).
 */
export function attributeBlocks(trace: Trace, blocks: readonly Block[], blockMs: number): Observation[] {
  const tEnd = trace.startedAt + trace.durationMs;
  const bySpan = new Map<Span, { location: SourceLocation; blockedMs: number; longestMs: number; count: number }>();
  for (const block of blocks) {
    if (block.end <= trace.startedAt || block.start >= tEnd) continue;
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
    const blockedMs = bestOverlap;
    const entry = bySpan.get(best);
    if (entry) {
      entry.blockedMs += blockedMs;
      entry.longestMs = Math.max(entry.longestMs, blockedMs);
      entry.count++;
    } else bySpan.set(best, { location: best.location!, blockedMs, longestMs: blockedMs, count: 1 });
  }
  const out: Observation[] = [];
  for (const [span, { location, blockedMs, longestMs, count }] of bySpan) {
    out.push({
      kind: 'blocking',
      severity: 'warning',
      endpoint: trace.endpoint,
      location,
      message: `the event loop was blocked ${ms(blockedMs)}${count > 1 ? ` (${count} times)` : ''} while ${short(span.name)} of ${short(trace.endpoint)} ran synchronously: every other request waited`,
      recommendation:
        'move the CPU-heavy work off the event loop (a worker thread, a streaming or async API, or smaller chunks with setImmediate between them), or avoid sync calls (fs.*Sync, crypto *Sync, JSON of large bodies) on the request path',
      evidence: { blockedMs: round1(blockedMs), longestMs: round1(longestMs), blocks: count, thresholdMs: blockMs, span: short(span.name) },
      requestId: trace.requestId,
    });
  }
  return out;
}
