/**
 * What route capture leaves on the request for the measuring middleware. Symbols from the
 * global registry, so two copies of the agent (the preload bundle and `routelens/agent`)
 * read each other's marks.
 */

/** The mount template of the router being run (`/orgs/:org`), pushed and popped as layers are entered and left. */
export const MOUNT = Symbol.for('routelens.req.mount');
/** The full template of the route that ran (`/orgs/:org/users/:id`). */
export const ROUTE = Symbol.for('routelens.req.route');
/** Set when the app's error path ran (a layer's handle_error / handleError, or next(err) from a route). */
export const THREW = Symbol.for('routelens.req.threw');

export interface MarkedRequest {
  [MOUNT]?: string;
  [ROUTE]?: string;
  [THREW]?: boolean;
}
