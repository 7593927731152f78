/**
 * The request being handled, carried through async work with AsyncLocalStorage,
 * so a cache call made inside a handler is attributed to the request's route.
 * The middleware's per-request state is the context; route capture fills
 * `route` when a route matches (express/request.ts).
 *
 * Entering the context is lazy. On Node 20 the first `AsyncLocalStorage.run()`
 * installs promise hooks that tax every promise and async resource in the
 * process (measured by `npm run bench`: a large share of the agent's cost), so
 * requests only enter their context once something reads it: a cache call made
 * while a request is in flight switches it on for the rest of the process's
 * life. The request that switched it on goes unattributed; every later one is.
 * Route capture and the rate limiter find the request's state through
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

/** Shared by every agent in the process (one AsyncLocalStorage, one switch). */
const state = { entering: false, inFlight: 0 };

/** Whether the middleware should run each request inside its context. */
export function contextEntered(): boolean {
  return state.entering;
}

/** The middleware's count of requests between its first sight and their finish or close. */
export function requestStarted(): void {
  state.inFlight++;
}
export function requestEnded(): void {
  if (state.inFlight > 0) state.inFlight--;
}

/**
 * The context of the request being handled, if any. Called by readers that want attribution:
 * outside any context while a request is in flight, it switches entering on.
 */
export function currentContext(): RequestContext | undefined {
  const ctx = requestContext.getStore();
  if (ctx === undefined && !state.entering && state.inFlight > 0) state.entering = true;
  return ctx;
}

/** Enters every request's context from now on (span recording needs it from the first request). */
export function enterAlways(): void {
  state.entering = true;
}

/** For tests: back to the lazy start. */
export function resetContextForTests(): void {
  state.entering = false;
  state.inFlight = 0;
}
