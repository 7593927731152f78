/**
 * The agent's own cache as spans, for its call sites (cache/): an L1 hit, an L2 hit or a miss
 * is a point span (`cache.get users:? (l1 hit)`), an L2 round trip and a loader run are spans
 * of their own (`cache.l2 get users:?`, `cache.load users:?`). The L2 round trip's Redis
 * commands are the cache's, not the app's: not recorded. Nothing is built for an untraced request.
 */
import { requestContext } from '../context';
import { keyShape } from './normalize';
import { CALL_SITE, bufferOf, endSpan, spanSink, startSpan, withSpan } from './recorder';

/** Whether the current request records spans (one load when no agent does). */
export function tracing(): boolean {
  if (spanSink() === undefined) return false;
  const ctx = requestContext.getStore();
  return ctx !== undefined && ctx.quiet !== true && bufferOf(ctx) !== undefined;
}

/** A point span for a read's outcome. */
export function cacheMark(outcome: 'l1 hit' | 'l2 hit' | 'miss', key: string): void {
  if (!tracing()) return;
  endSpan(startSpan('cache', `cache.get ${keyShape(key)} (${outcome})`, 'routelens', CALL_SITE));
}

/** Runs `fn` as a cache span (`quiet`: its Redis commands are not recorded). */
export function cacheSpan<T>(what: 'l2 get' | 'load', key: string, quiet: boolean, fn: () => T): T {
  if (!tracing()) return fn();
  return withSpan('cache', `cache.${what} ${keyShape(key)}`, 'routelens', CALL_SITE, quiet, fn);
}
