/**
 * The pure parts of `npm run bench -- instructions` (bench/instructions.ts): reading callgrind's
 * dumps, naming V8's generated code from a `--perf-basic-prof` map, and the per-request
 * arithmetic and verdicts. No side effects, so they are unit-tested without valgrind.
 */
import { judge, type Judged } from './verdict';

/** A dump's instruction count: its `summary:` line (the `Ir` event), else its `totals:` line. */
export function readSummary(text: string): number {
  const m = /^summary:\s*(\d+)/m.exec(text) ?? /^totals:\s*(\d+)/m.exec(text);
  if (!m) throw new Error('no summary or totals line in the callgrind dump');
  return Number(m[1]);
}

export interface FunctionCost {
  /** Instructions executed in the function's own code. */
  self: number;
  /** Self plus everything it called (callgrind's inclusive cost; recursion may count twice). */
  inclusive: number;
}

/**
 * Self and inclusive instructions by function name from one callgrind dump (`events: Ir`, one
 * position column, name compression). A function's name is callgrind's (`0x…` for code it has
 * no symbol for: V8's generated code), without the `'2` recursion suffixes.
 */
export function functionCosts(text: string): Map<string, FunctionCost> {
  const names = new Map<string, string>();
  const costs = new Map<string, FunctionCost>();
  const nameOf = (spec: string): string => {
    const m = /^\((\d+)\)(?:\s+(.*))?$/.exec(spec.trim());
    if (!m) return spec.trim().replace(/'\d+$/, '');
    if (m[2] !== undefined) names.set(m[1]!, m[2].replace(/'\d+$/, ''));
    return names.get(m[1]!) ?? `(${m[1]})`;
  };
  let current: FunctionCost | undefined;
  let afterCalls = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('fn=')) {
      const name = nameOf(line.slice(3));
      current = costs.get(name);
      if (!current) costs.set(name, (current = { self: 0, inclusive: 0 }));
      afterCalls = false;
    } else if (line.startsWith('cfn=')) {
      nameOf(line.slice(4)); // defines the id for later references
    } else if (line.startsWith('calls=')) {
      afterCalls = true;
    } else if (current && /^[+\-*\d]/.test(line)) {
      const cost = Number(line.trim().split(/\s+/)[1] ?? 0);
      if (!afterCalls) current.self += cost;
      current.inclusive += cost;
      afterCalls = false;
    }
  }
  return costs;
}

export interface CodeRange {
  start: number;
  end: number;
  name: string;
}

/** A `/tmp/perf-<pid>.map` (`<start hex> <size hex> <name>` per line), sorted by start; a later entry for the same start wins. */
export function readPerfMap(text: string): CodeRange[] {
  const byStart = new Map<number, CodeRange>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]+) ([0-9a-fA-F]+) (.*)$/.exec(line);
    if (!m) continue;
    const start = Number.parseInt(m[1]!, 16);
    byStart.set(start, { start, end: start + Number.parseInt(m[2]!, 16), name: m[3]! });
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}

/** The perf-map name of the code a callgrind `0x…` name points into, else the name unchanged. */
export function symbolize(name: string, ranges: readonly CodeRange[]): string {
  if (!/^0x[0-9a-fA-F]+$/.test(name)) return name;
  const addr = Number.parseInt(name, 16);
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (addr < r.start) hi = mid - 1;
    else if (addr >= r.end) lo = mid + 1;
    else return r.name;
  }
  return name;
}

/** Function costs under their perf-map names (generated code entered at several addresses of one function adds up). */
export function namedCosts(costs: Map<string, FunctionCost>, ranges: readonly CodeRange[]): Map<string, FunctionCost> {
  const out = new Map<string, FunctionCost>();
  for (const [raw, c] of costs) addCost(out, symbolize(raw, ranges), c);
  return out;
}

/** Adds `from`'s costs into `into` (one thread's dump into the process's). */
export function addCosts(into: Map<string, FunctionCost>, from: Map<string, FunctionCost>): Map<string, FunctionCost> {
  for (const [name, c] of from) addCost(into, name, c);
  return into;
}

function addCost(into: Map<string, FunctionCost>, name: string, c: FunctionCost): void {
  const o = into.get(name);
  if (o) {
    o.self += c.self;
    o.inclusive += c.inclusive;
  } else into.set(name, { ...c });
}

/** The threads of a server child, as callgrind's `--separate-threads=yes` dumps them (one file each). */
export const THREADS = ['main thread', 'agent worker thread', 'V8 and Node helper threads', 'other threads'] as const;
export type ThreadKind = (typeof THREADS)[number];

/**
 * Which thread a dump is: callgrind numbers the process's first thread 1; V8's and Node's helper
 * threads (concurrent compiles, GC) run their tasks under PlatformWorkerThread or a job worker; any
 * other thread that runs JavaScript is a worker thread's (a server child starts one: the agent's).
 */
export function threadKind(threadNo: number, costs: Map<string, FunctionCost>): ThreadKind {
  if (threadNo === 1) return 'main thread';
  const names = [...costs.keys()];
  if (names.some((n) => /PlatformWorkerThread|DefaultJobWorker|DelayedTaskScheduler/.test(n))) return 'V8 and Node helper threads';
  if (names.some((n) => /^(Builtins?_|BytecodeHandler:|JS:|0x[0-9a-fA-F]+$)/.test(n))) return 'agent worker thread';
  return 'other threads';
}

/** One counted window of one server child. */
export interface Window {
  requests: number;
  /** Instructions of the whole process (every thread) while the requests ran. */
  instructions: number;
  /** How long the window lasted (wall time, under valgrind). */
  seconds: number;
  /** Instructions of an idle window right after (no requests), and its length. */
  idleInstructions: number;
  idleSeconds: number;
  /** The same number of requests again, sent at a slower pace: instructions and wall time. */
  pacedInstructions?: number;
  pacedSeconds?: number;
}

/** What one window says per request. */
export interface PerRequest {
  /** Everything in the window over its requests. */
  gross: number;
  /**
   * Instructions per second of wall time while requests arrive, whatever their number: timers,
   * a client's deltas, sampling by the clock (spans' per-second budgets). From the two paces when
   * the window has both, else the idle window's rate.
   */
  periodicPerSecond: number;
  /** Gross less the clock's work over the window's wall time: what each request itself costs. */
  net: number;
  /** The request path plus the clock's work that falls on each request at `rate` requests/s, natively. */
  atRate: number;
}

/** The idle window's instructions per second. */
export function idleRate(w: Window): number {
  return w.idleSeconds > 0 ? w.idleInstructions / w.idleSeconds : 0;
}

/**
 * Per-request figures of one window. Counting stretches wall time tens of times over, so work
 * that runs by the clock falls on many more requests than natively. With two paces, the window's
 * instructions are read as `net` per request plus `periodicPerSecond` per second of wall time
 * (two equations, the same requests at two paces); with one, `periodicPerSecond` is the idle
 * window's rate, or the one the caller passes (the lowest over a variant's repeats: work left
 * over from the warm-up only ever adds to an idle window), which misses the clock's work that
 * only requests cause.
 */
export function perRequest(w: Window, rate: number, periodicPerSecond = idleRate(w)): PerRequest {
  let perSecond = periodicPerSecond;
  if (w.pacedInstructions !== undefined && w.pacedSeconds !== undefined && w.pacedSeconds > w.seconds) {
    perSecond = Math.max(0, (w.pacedInstructions - w.instructions) / (w.pacedSeconds - w.seconds));
  }
  const net = (w.instructions - perSecond * w.seconds) / w.requests;
  return { gross: w.instructions / w.requests, periodicPerSecond: perSecond, net, atRate: net + perSecond / rate };
}

export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN;
}

/** Half the min–max range of repeated figures, as a fraction of their mean (0 for one figure). */
export function halfRange(values: readonly number[]): number {
  if (values.length < 2) return 0;
  return (Math.max(...values) - Math.min(...values)) / 2 / mean(values);
}

export interface InstructionVerdict extends Judged {
  ratio: number;
  /** The spread the verdict was read with: the larger of the A/A line's and the variant's own. */
  spread: number;
}

/**
 * A variant's instructions per request against bare, `at most` `target`: the ratio of the means
 * of the repeats, read beside the larger of the A/A spread (bare-b against bare: the distance of
 * its ratio from ×1 and the half-ranges of both) and the variant's own half-range. Without an
 * A/A line, unresolved.
 */
export function judgeInstructions(variant: readonly number[], bare: readonly number[], bareB: readonly number[] | undefined, target: number): InstructionVerdict {
  const ratio = mean(variant) / mean(bare);
  const aa = bareB && bareB.length ? Math.max(Math.abs(mean(bareB) / mean(bare) - 1), halfRange(bare), halfRange(bareB)) : Number.NaN;
  const spread = Math.max(aa, halfRange(variant));
  const j = judge(ratio, target, 'at most', spread);
  return { verdict: j.verdict, text: j.text.replace('A/A spread', 'spread (A/A or repeats)'), ratio, spread };
}

/** Where a function's instructions belong, for the "where do they go" table; `agentMark` is a path fragment of the agent's bundle. */
export const CATEGORIES = ['agent (JS)', 'dependencies (JS)', 'Node internals (JS)', 'app and bench (JS)', 'V8 builtins, interpreter', 'V8 GC', 'V8 compilers', 'V8 runtime, other', 'Node C++, libuv', 'unnamed generated code', 'libc, libstdc++, other'] as const;
export type Category = (typeof CATEGORIES)[number];

export function categoryOf(name: string, agentMark: string): Category {
  if (/^(JS|Eval|Script):/.test(name)) {
    if (name.includes(agentMark)) return 'agent (JS)';
    if (name.includes('/node_modules/')) return 'dependencies (JS)';
    if (/\snode:/.test(name)) return 'Node internals (JS)';
    return 'app and bench (JS)';
  }
  if (/^(Builtins?_|Builtin:|BytecodeHandler:|RegExp:|Stub:)/.test(name)) return 'V8 builtins, interpreter';
  if (/^v8::internal::(compiler|maglev|baseline)::|Compil(e|ation)Job|OptimizingCompileDispatcher/.test(name)) return 'V8 compilers';
  if (/^v8::internal::.*(Heap|Scaveng|MarkCompact|Sweep|Marking|Marker|Evacuat|RememberedSet|SizeFromMap|MemoryChunk|Page|Slot|Sweeper|Concurrent|GC)/.test(name)) return 'V8 GC';
  if (/^(v8::|v8_|Builtins::)/.test(name)) return 'V8 runtime, other';
  if (/^(node::|uv_|uv__)/.test(name)) return 'Node C++, libuv';
  if (/^0x[0-9a-fA-F]+$/.test(name)) return 'unnamed generated code';
  return 'libc, libstdc++, other';
}

/** Self instructions by category (they add up to the dump's total). */
export function byCategory(named: Map<string, FunctionCost>, agentMark: string): Record<Category, number> {
  const out = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  for (const [name, c] of named) out[categoryOf(name, agentMark)] += c.self;
  return out;
}
