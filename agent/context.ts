/**
 * The request being handled, carried through async work with AsyncLocalStorage,
 * so a cache call made inside a handler is attributed to the request's route, and a traced
 * request's spans find their trace. The middleware's per-request state is the context; route
 * capture fills `route` when a route matches (express/request.ts).
 *
 * On Node 20 an enabled AsyncLocalStorage installs promise and async hooks that tax every promise
 * and async resource in the process, whichever request made it (measured by `npm run bench --
 * instructions`: most of the agent's cost on the app's thread). So requests enter their context
 * only when something will read it, and the storage is off whenever no such request is in flight:
 *   - **traced**: while spans are recorded, the sampler decides at each request's start whether it
 *     is traced (its route told from its path: spans/index.ts); only traced requests enter, and the
 *     storage is disabled again when the last traced request in flight ends;
 *   - **always**: a cache call (or `agent.requestId()`) made outside any context while a request is
 *     in flight switches entering on for every request, for the rest of the process's life. The
 *     request that switched it on goes unattributed; every later one is.
 * While the storage is on, a request that does not enter runs with no store, so nothing of a
 * previous request on its connection leaks into it. A context found after its request's sample was
 * taken (left on a connection while the storage was off, or late work of that request) is not a
 * request being handled. Route capture and the rate limiter find the request's state through
 * express/request.ts instead.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SourceLocation } from '../protocol';

export interface RequestContext {
  method: string;
  /** Matched template (`/users/:id`), set by route capture; undefined until a route matches. */
  route: string | undefined;
  requestId: string;
  /** `performance.now()` at the request's first sight (the measuring middleware's state has it). */
  readonly t0?: number;
  /** The request's sample was taken: a context found after that is not a request being handled. */
  readonly recorded?: boolean;
  /** The request's span buffer (spans/recorder.ts): undefined until its first span, null when not traced. */
  trace?: unknown;
  /** In a child context (spans/recorder.ts): the index of the span that encloses what runs in it. */
  spanParent?: number;
  /** In a child context: spans started here are the enclosing span's own (the agent's own Redis calls), not recorded. */
  quiet?: boolean;
  /** In a child context: the user's call site of the operation running in it (a pool's query, whose client query starts later). */
  callSite?: SourceLocation;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/**
 * Decides at a request's start whether it is traced (and sets its `trace`); true: it enters its
 * context. Installed by span recording; `req` is the request as received (its URL is read only here).
 */
export type TraceDecision = (ctx: RequestContext, req: object) => boolean;

/** Shared by every agent in the process (one AsyncLocalStorage, one switch). */
const state = {
  entering: false,
  inFlight: 0,
  decide: undefined as TraceDecision | undefined,
  /** Traced requests in flight: they entered their context (outside the `entering` mode). */
  traced: 0,
  /** Whether the storage is on (enabled by a run or enterWith of ours, disabled when no traced request is left). */
  on: false,
};

/** What `storeAtStart` returns for a request that runs with no call of ours around it. */
export const NOT_ENTERED = Symbol('routelens.context.notEntered');

/**
 * The store a request starting now runs in: its context when it enters (see above), undefined
 * when the storage is on for other requests, NOT_ENTERED when the storage is off.
 * Counts the request in flight; `requestEnded` with the same context ends it.
 */
export function storeAtStart(ctx: RequestContext, req: object): RequestContext | undefined | typeof NOT_ENTERED {
  state.inFlight++;
  const traced = state.decide !== undefined && decideSafely(state.decide, ctx, req);
  if (traced) {
    state.traced++;
    tracedContexts.add(ctx);
  }
  if (state.entering || traced) {
    state.on = true;
    return ctx;
  }
  return storeOutside();
}

/** What a request that is not measured runs in (a paused middleware): no store while the storage is on. */
export function storeOutside(): undefined | typeof NOT_ENTERED {
  return state.on ? undefined : NOT_ENTERED;
}

/** Traced requests in flight, by context (a WeakSet: no field on the context, no leak if one never ends). */
const tracedContexts = new WeakSet<RequestContext>();

function decideSafely(decide: TraceDecision, ctx: RequestContext, req: object): boolean {
  try {
    return decide(ctx, req);
  } catch {
    return false;
  }
}

/** The request of `storeAtStart` finished or closed: when it was the last traced one, the storage goes off. */
export function requestEnded(ctx: RequestContext): void {
  if (state.inFlight > 0) state.inFlight--;
  if (!tracedContexts.delete(ctx)) return;
  if (--state.traced > 0 || state.entering || !state.on) return;
  state.on = false;
  requestContext.disable();
}

/**
 * The context of the request being handled, if any. Called by readers that want attribution:
 * outside any context while a request is in flight, it switches entering on.
 */
export function currentContext(): RequestContext | undefined {
  const ctx = requestContext.getStore();
  if (ctx !== undefined) return ctx.recorded === true ? undefined : ctx;
  if (!state.entering && state.inFlight > 0) state.entering = true;
  return undefined;
}

/** Span recording's decision, made at every request's start from now on (undefined: none). */
export function traceRequests(decide: TraceDecision | undefined): void {
  state.decide = decide;
}

/** Whether every request enters its context (a cache call switched it on). */
export function contextEntered(): boolean {
  return state.entering;
}

/** For tests: back to the lazy start (nothing traced, nothing entered, the storage off). */
export function resetContextForTests(): void {
  state.entering = false;
  state.inFlight = 0;
  state.traced = 0;
  state.on = false;
  requestContext.disable();
}
