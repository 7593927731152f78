/**
 * The request being handled, carried through async work with AsyncLocalStorage,
 * so a cache call or a custom timing made inside a handler is attributed to the
 * request's route. The middleware enters one RequestContext per request; route
 * capture fills `route` when a route matches.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  method: string;
  /** Matched template (`/users/:id`), set by route capture; undefined until a route matches. */
  route: string | undefined;
  requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

/** The endpoint id (`GET /users/:id`) of the request being handled, if any. */
export function currentEndpointId(): string | undefined {
  const ctx = requestContext.getStore();
  return ctx?.route === undefined ? undefined : `${ctx.method} ${ctx.route}`;
}
