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
  }
}

function publishesItself(query: AnyFn): boolean {
  return Function.prototype.toString.call(query).includes('pg:query');
}

function subscribed(): boolean {
  return (channel as { hasSubscribers?: boolean }).hasSubscribers ?? channel.start.hasSubscribers;
}

function wrapQuery(orig: AnyFn): AnyFn {
  return function query(this: unknown, config: unknown, values?: unknown, callback?: unknown) {
    // eslint-disable-next-line prefer-rest-params -- hand pg its caller's own arguments
    const args = arguments;
    const submittable = typeof (config as { submit?: unknown } | null)?.submit === 'function';
    if (!subscribed() || submittable || config === null || config === undefined) return orig.apply(this, args as never);
    const conn = this as { database?: unknown; host?: unknown; port?: unknown; connectionParameters?: { database?: unknown } };
    const context = {
      query: typeof config === 'string' ? config : (config as { text?: unknown }).text,
      database: conn.database ?? conn.connectionParameters?.database,
      serverAddress: conn.host,
      serverPort: conn.port,
    };
    const at = typeof values === 'function' ? 1 : typeof callback === 'function' ? 2 : typeof (config as { callback?: unknown }).callback === 'function' ? -2 : -1;
    if (at === -2) return orig.apply(this, args as never);
    if (at >= 0) return channel.traceCallback(orig as never, at, context, this, ...(Array.prototype.slice.call(args) as never[]));
    return channel.tracePromise(() => orig.apply(this, args as never) as Promise<unknown>, context);
  };
}

function wrapConnect(orig: AnyFn): AnyFn {
  return function connect(this: unknown, callback?: unknown) {
    if (typeof callback === 'function') return orig.call(this, AsyncResource.bind(callback as AnyFn));
    // eslint-disable-next-line prefer-rest-params -- the promise form, unchanged
    return orig.apply(this, arguments as never);
  };
}
