/**
 * pg (node-postgres) does not publish on a TracingChannel yet (brianc/node-postgres#3650 is
 * open). Until it does, this narrow wrapper of `Client.prototype.query` publishes on
 * `pg:query` with the context shape that PR proposes (`query`, `database`, `serverAddress`,
 * `serverPort`; never the values), so channels.ts subscribes the same way either way and the
 * wrapper retires when a pg that publishes is installed (it then stays off).
 *
 * pg-pool hands a client to a waiting `connect` callback from whichever request released it;
 * the wrapper binds that callback to its caller's async context, so the query a pool runs for
 * request A (`pool.query`, or `pool.connect(cb)`) is A's even when B's release started it.
 */
import { AsyncResource } from 'node:async_hooks';
import { tracingChannel } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Hook } from 'require-in-the-middle';
import { runQuiet } from './recorder';

const WRAPPED = Symbol.for('routelens.pg.wrapped');
const channel = tracingChannel('pg:query');

type AnyFn = (this: unknown, ...args: unknown[]) => unknown;
interface PgModule {
  Client?: { prototype: Record<string | symbol, unknown> };
  Pool?: { prototype: Record<string | symbol, unknown> };
}

let hooked = false;

/** Wraps pg when it is loaded from now on, and the copy the app already loaded. Idempotent; never throws. */
export function installPg(): void {
  if (hooked) return;
  hooked = true;
  try {
    new Hook(['pg'], (exports) => {
      wrapPg(exports as PgModule);
      return exports;
    });
    const appRequire = createRequire(join(process.cwd(), 'noop.js'));
    const cache = (require('node:module') as { _cache: Record<string, { exports?: unknown } | undefined> })._cache;
    const loaded = cache[appRequire.resolve('pg')];
    if (loaded?.exports !== undefined) wrapPg(loaded.exports as PgModule);
  } catch {
    /* no pg */
  }
}

/** Wraps one pg module's Client query and Pool connect (exported for tests). */
export function wrapPg(pg: PgModule): void {
  const client = pg.Client?.prototype;
  if (client !== undefined && typeof client.query === 'function' && !client[WRAPPED] && !publishesItself(client.query as AnyFn)) {
    Object.defineProperty(client, WRAPPED, { value: true });
    client.query = wrapQuery(client.query as AnyFn);
  }
  const pool = pg.Pool?.prototype;
  if (pool !== undefined && typeof pool.connect === 'function' && !pool[WRAPPED]) {
    Object.defineProperty(pool, WRAPPED, { value: true });
    pool.connect = wrapConnect(pool.connect as AnyFn);
    if (typeof pool.query === 'function') pool.query = wrapPoolQuery(pool.query as AnyFn);
  }
}

function publishesItself(query: AnyFn): boolean {
  return Function.prototype.toString.call(query).includes('pg:query');
}

function subscribed(): boolean {
  return (channel as { hasSubscribers?: boolean }).hasSubscribers ?? channel.start.hasSubscribers;
}

function wrapQuery(orig: AnyFn): AnyFn {
  return function query(this: unknown) {
    // eslint-disable-next-line prefer-rest-params -- hand pg its caller's own arguments
    return traceQuery(this, orig, arguments, false);
  };
}

/**
 * A pool's query is one span from the call (so the wait for a free connection counts as the
 * query's) to the reply; the client query it runs is the same operation, so it runs quiet. The
 * caller's callback is bound to the caller's context first (it must not run quiet).
 */
function wrapPoolQuery(orig: AnyFn): AnyFn {
  return function query(this: unknown) {
    // eslint-disable-next-line prefer-rest-params -- hand pg-pool its caller's own arguments
    return traceQuery(this, orig, arguments, true);
  };
}

/** Publishes one query on `pg:query` around `orig` (a client's or a pool's query). */
function traceQuery(self: unknown, orig: AnyFn, args: IArguments, pool: boolean): unknown {
  const [config, values, callback] = args as unknown as [unknown, unknown, unknown];
  const submittable = typeof (config as { submit?: unknown } | null)?.submit === 'function';
  if (!subscribed() || submittable || config === null || config === undefined || typeof (config as { callback?: unknown }).callback === 'function') return orig.apply(self, args as never);
  const conn = (pool ? (self as { options?: object }).options : self) as { database?: unknown; host?: unknown; port?: unknown; connectionParameters?: { database?: unknown } } | undefined;
  const context = {
    query: typeof config === 'string' ? config : (config as { text?: unknown }).text,
    database: conn?.database ?? conn?.connectionParameters?.database,
    serverAddress: conn?.host,
    serverPort: conn?.port,
  };
  const list = Array.prototype.slice.call(args) as unknown[];
  const at = typeof values === 'function' ? 1 : typeof callback === 'function' ? 2 : -1;
  if (at >= 0 && pool) list[at] = AsyncResource.bind(list[at] as AnyFn);
  const run = pool ? (...a: unknown[]) => runQuiet(() => orig.apply(self, a)) : (...a: unknown[]) => orig.apply(self, a);
  if (at >= 0) return channel.traceCallback(run as never, at, context, self, ...(list as never[]));
  return channel.tracePromise(() => run(...list) as Promise<unknown>, context);
}

function wrapConnect(orig: AnyFn): AnyFn {
  return function connect(this: unknown, callback?: unknown) {
    if (typeof callback === 'function') return orig.call(this, AsyncResource.bind(callback as AnyFn));
    // eslint-disable-next-line prefer-rest-params -- the promise form, unchanged
    return orig.apply(this, arguments as never);
  };
}
