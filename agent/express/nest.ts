/**
 * NestJS on Express. Nest registers every controller route on its app's own Express router from
 * `@nestjs/core`'s RouterExplorer, with the global prefix already in the path
 * (`app.get('/api/items/:id', proxy)`), and the handler Express holds is Nest's proxy closure
 * (router-proxy.js, around router-execution-context.js's), not the controller method. So:
 *
 *   registration  a route whose registration call comes from `@nestjs/core` (a frame of it below
 *                 the user's frame, which is only the `await app.listen()` line) is held back until
 *                 its handler is located; its router, mounted nowhere, is an app's root, also for
 *                 an app created before the agent (whose app methods are Express's own).
 *   location      the controller method, found by following the proxy's closure scopes (V8's
 *                 `[[Scopes]]`, through the inspector session of location.ts) from Nest's own
 *                 functions to the first function outside `node_modules`: the method Nest calls
 *                 (`callback` in router-execution-context). Both `location` and `handlerLocation`
 *                 are that method, source-mapped to the `.ts` file, so the lens sits on it.
 *
 * The walk is bounded (a few levels, a few dozen inspector calls per route), runs only in the
 * batched lookup off the request path, starts only from a function defined in `@nestjs/`, and
 * finds nothing for what it does not know (a request-scoped controller resolves its instance
 * per request): such a route keeps the registration site as before.
 */
import { type ModuleState, type RouterNode, markRoot } from './model';

const NEST = /[\\/]node_modules[\\/]@nestjs[\\/]/;
const NEST_CORE = /[\\/]node_modules[\\/]@nestjs[\\/]core[\\/]/;
/** Closures followed from Nest's handler: the proxy, the execution context, the method (plus wrappers: host, version filters). */
const MAX_DEPTH = 4;
/** Inspector calls per handler (in-process, synchronous; about three per closure followed). */
const MAX_CALLS = 64;

/** True for a file (path or file: URL) of a NestJS package. */
export function isNestFile(file: string): boolean {
  return NEST.test(file);
}

/** True for a stack frame's file in `@nestjs/core` (its router explorer registers routes). */
export function isNestCoreFile(file: string): boolean {
  return NEST_CORE.test(file);
}

/**
 * A router Nest registers controller routes on directly is its app's own router: made a root
 * when it is not mounted anywhere by the end of the synchronous run, so the routes are known at registration (before traffic) even
 * when the app was created before the agent and `app.use(agent.middleware())` only added a layer.
 */
export function claimNestRouter(state: ModuleState, node: RouterNode): void {
  if (node.root || claims.has(node)) return;
  claims.add(node);
  // At the end of the synchronous run, as for an app: a router Nest fills and then mounts
  // (Nest 12's not-found router, `use('/api', router)`) is not a root.
  queueMicrotask(() => {
    try {
      if (!node.root && !node.subApp && node.parents.length === 0) markRoot(state, node);
    } catch (err) {
      state.fail('express.nest', err);
    }
  });
}

const claims = new WeakSet<RouterNode>();

/** What the walk needs of an inspector session (location.ts implements it). */
export interface ClosureReader {
  /** The file a function (by remote object id) is defined in, and its `[[Scopes]]` object id. */
  describe(objectId: string): { file: string | undefined; scopes: string | undefined };
  /**
   * Properties of a remote object (own ones, or with its prototype chain's when `inherited`):
   * name, type, object id (functions, objects and scopes have one), description, and a
   * primitive's value.
   */
  properties(objectId: string, inherited?: boolean): RemoteVariable[];
}

export interface RemoteVariable {
  name: string;
  type: string | undefined;
  objectId: string | undefined;
  description: string | undefined;
  value?: unknown;
}

/**
 * The user function Nest's handler `objectId` ends up calling: breadth first through closure
 * scopes (closures and blocks; module, script and global scopes are not read) of functions
 * defined in `@nestjs/`, the first function whose file is the user's (`isUser`). Undefined when none is found within
 * the bounds. Never throws.
 */
export function nestTarget(reader: ClosureReader, objectId: string, isUser: (file: string) => boolean): string | undefined {
  let calls = 0;
  const spend = (): boolean => ++calls <= MAX_CALLS;
  try {
    let level = [objectId];
    for (let depth = 0; depth < MAX_DEPTH && level.length > 0; depth++) {
      const next: string[] = [];
      for (const fn of level) {
        if (!spend()) return undefined;
        const { scopes } = reader.describe(fn);
        if (scopes === undefined || !spend()) continue;
        for (const scope of reader.properties(scopes)) {
          if (scope.objectId === undefined || !/^(Closure|Block)\b/.test(scope.description ?? '') || !spend()) continue;
          const variables = reader.properties(scope.objectId);
          const method = requestScopedMethod(reader, variables, spend);
          if (method !== undefined) {
            if (!spend()) return undefined;
            const { file } = reader.describe(method);
            if (file !== undefined && isUser(file)) return method;
          }
          for (const v of variables) {
            if (v.type !== 'function' || v.objectId === undefined) continue;
            if (!spend()) return undefined;
            const { file } = reader.describe(v.objectId);
            if (file === undefined) continue;
            if (isUser(file)) return v.objectId;
            if (isNestFile(file)) next.push(v.objectId);
          }
        }
      }
      level = next;
    }
  } catch {
    /* nothing found */
  }
  return undefined;
}

/**
 * A request-scoped controller's handler (router-explorer's createRequestScopedHandler) holds no
 * method, only the controller's prototype instance and the method's name, resolved per request:
 * the method is `instance[methodName]`, read from the instance's prototype chain.
 */
function requestScopedMethod(reader: ClosureReader, variables: RemoteVariable[], spend: () => boolean): string | undefined {
  const name = variables.find((v) => v.name === 'methodName' && v.type === 'string')?.value;
  const instance = variables.find((v) => v.name === 'instance' && v.type === 'object')?.objectId;
  if (typeof name !== 'string' || instance === undefined || !spend()) return undefined;
  return reader.properties(instance, true).find((p) => p.name === name && p.type === 'function')?.objectId;
}
