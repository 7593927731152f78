/**
 * Recording spans into the request being handled, found through the request context
 * (context.ts). Every span source (diagnostics channels, the Express layer hook, the cache, the
 * limiter, `agent.time()`) calls `startSpan` where the operation starts, synchronously in the
 * caller's async context, and `endSpan` with the handle it got, whatever context it ends in: so
 * a query started by request A and finished while B runs belongs to A.
 *
 * A request's spans live in its TraceBuffer, made at its first span and only while an agent
 * records spans (the process's SpanSink, one at a time). Whether the request is traced is decided
 * by the sink's sampler once its route is known (before that, middleware spans are kept
 * tentatively); an untraced request costs one flag test per span source after that.
 *
 * Nesting: `withSpan` runs a function in a child context (a prototype-linked copy of the
 * request's) whose spans name the enclosing span as their parent; a `quiet` child drops them
 * (the agent's own Redis round trips inside a cache or limiter span).
 */
import type { SourceLocation, Span, SpanKind } from '../../protocol';
import { type RequestContext, requestContext } from '../context';
import { captureSite } from '../express/location';

/** What a span source needs from the agent that records: the sampling decision and the cap. */
export interface SpanSink {
  /** Whether this request (of `method` `route`) is traced; called once per request, when its route is known. */
  admit(method: string, route: string): boolean;
  readonly maxSpans: number;
}

/** Pass as `location` to have the first user frame of the current stack captured. */
export const CALL_SITE = 'call-site';

export class TraceBuffer {
  readonly spans: Span[] = [];
  /** Per span, the function it ran (middleware and handlers: located later, off the request path). */
  readonly fns: Array<unknown> = [];
  dropped = 0;
  decided = false;
  off = false;
  constructor(
    readonly sink: SpanSink,
    readonly t0: number,
  ) {}
}

/** A started span: end it with `endSpan`. */
export interface OpenSpan {
  buffer: TraceBuffer;
  index: number;
  start: number;
}

const slot: { sink: SpanSink | undefined } = { sink: undefined };

/** Makes `sink` the process's span recorder (undefined: none; spans then cost one load per source). */
export function setSpanSink(sink: SpanSink | undefined): void {
  slot.sink = sink;
}

export function spanSink(): SpanSink | undefined {
  return slot.sink;
}

/** The request's buffer, made on first use; undefined when spans are off or the request is not traced. */
export function bufferOf(ctx: RequestContext): TraceBuffer | undefined {
  const b = ctx.trace;
  if (b instanceof TraceBuffer) {
    if (b.off) return undefined;
    if (!b.decided && ctx.route !== undefined) decide(b, ctx.method, ctx.route);
    return b.off ? undefined : b;
  }
  if (b === null) return undefined;
  const sink = slot.sink;
  if (sink === undefined || ctx.t0 === undefined || ctx.spanParent !== undefined) return undefined;
  const made = new TraceBuffer(sink, ctx.t0);
  ctx.trace = made;
  if (ctx.route !== undefined) decide(made, ctx.method, ctx.route);
  return made.off ? undefined : made;
}

/** The sink's sampling decision for a buffer (made once). */
export function decide(b: TraceBuffer, method: string, route: string): void {
  b.decided = true;
  let admitted: boolean;
  try {
    admitted = b.sink.admit(method, route);
  } catch {
    admitted = false;
  }
  if (!admitted) {
    b.off = true;
    b.spans.length = 0;
    b.fns.length = 0;
  }
}

/**
 * Starts a span in the current request, if it is traced. `location`: where in the user's code,
 * CALL_SITE to capture the current stack's first user frame, or absent. `fn`: a function whose
 * definition site becomes the location when the trace is built.
 */
export function startSpan(kind: SpanKind, name: string, source: string, location?: SourceLocation | typeof CALL_SITE, fn?: unknown): OpenSpan | undefined {
  if (slot.sink === undefined) return undefined;
  const ctx = requestContext.getStore();
  if (ctx === undefined || ctx.quiet === true) return undefined;
  const b = bufferOf(ctx);
  if (b === undefined) return undefined;
  if (b.spans.length >= b.sink.maxSpans) {
    b.dropped++;
    return undefined;
  }
  const start = performance.now();
  const span: Span = { kind, name, startMs: start - b.t0, durationMs: -1, source };
  if (ctx.spanParent !== undefined) span.parent = ctx.spanParent;
  const loc = location === CALL_SITE ? (ctx.callSite ?? captureSite()) : location;
  if (loc !== undefined) span.location = loc;
  const index = b.spans.push(span) - 1;
  b.fns[index] = fn;
  return { buffer: b, index, start };
}

/** Ends a span (idempotent: the first end counts). */
export function endSpan(open: OpenSpan | undefined, error?: boolean): void {
  if (open === undefined) return;
  const span = open.buffer.spans[open.index];
  if (span === undefined || span.durationMs >= 0) return;
  span.durationMs = performance.now() - open.start;
  if (error === true) span.error = true;
}

/**
 * Runs `fn` inside a span: its spans nest under it (`quiet`: are dropped). Returns what fn
 * returns; a promise ends the span when it settles. Errors pass through unchanged.
 */
export function withSpan<T>(kind: SpanKind, name: string, source: string, location: SourceLocation | typeof CALL_SITE | undefined, quiet: boolean, fn: () => T): T {
  const open = startSpan(kind, name, source, location);
  if (open === undefined) return fn();
  const parent = requestContext.getStore()!;
  const child = Object.create(parent) as RequestContext;
  child.spanParent = open.index;
  if (quiet) child.quiet = true;
  let result: T;
  try {
    result = requestContext.run(child, fn);
  } catch (err) {
    endSpan(open, true);
    throw err;
  }
  if (result instanceof Promise) {
    result.then(
      () => endSpan(open),
      () => endSpan(open, true),
    );
  } else endSpan(open);
  return result;
}

/**
 * Runs `fn` (an operation whose spans start later, out of the user's stack: a pool's query) with
 * the user's call site captured now, if the request is traced.
 */
export function withCallSite<T>(fn: () => T): T {
  const ctx = requestContext.getStore();
  const child = siteContext();
  return child === ctx ? fn() : requestContext.run(child!, fn);
}

/** The current context, or a child of it carrying the call site captured now when the request is traced. */
export function siteContext(): RequestContext | undefined {
  const ctx = requestContext.getStore();
  if (slot.sink === undefined || ctx === undefined || ctx.quiet === true || ctx.callSite !== undefined || bufferOf(ctx) === undefined) return ctx;
  const site = captureSite();
  if (site === undefined) return ctx;
  const child = Object.create(ctx) as RequestContext;
  child.callSite = site;
  return child;
}

/** Runs `fn` where spans are not recorded (an operation already recorded by its caller). */
export function runQuiet<T>(fn: () => T): T {
  const ctx = requestContext.getStore();
  if (ctx === undefined || ctx.quiet === true) return fn();
  const child = Object.create(ctx) as RequestContext;
  child.quiet = true;
  return requestContext.run(child, fn);
}

/** Runs `fn` in the current request's own context (out of a child's): for `next()` called inside a quiet span. */
export function outOfSpan<T>(fn: () => T): T {
  const ctx = requestContext.getStore();
  if (ctx === undefined || (ctx.spanParent === undefined && ctx.quiet !== true && ctx.callSite === undefined)) return fn();
  let root: RequestContext = ctx;
  while (['spanParent', 'callSite', 'quiet'].some((k) => Object.prototype.hasOwnProperty.call(root, k))) root = Object.getPrototypeOf(root) as RequestContext;
  return requestContext.run(root, fn);
}
