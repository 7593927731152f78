/**
 * The measuring middleware at an app's entry: `app.use(agent.middleware())` alone on an app adds
 * no layer to its router (instrument.ts calls measureAtEntry from the patched `app.use`).
 */
import { subscribe } from 'node:diagnostics_channel';
import { type AppLike, isApp } from './model';
import { AT_ENTRY, type AppEntry } from './request';

/** On a wrapped `app.handle`: the AppEntry it measures with, and the handle it wraps. */
const ENTRY = Symbol.for('routelens.express.entry');
const INNER = Symbol.for('routelens.express.inner');

/**
 * When `fn` is the measuring middleware (marked with AT_ENTRY), measures the app from its entry
 * and returns true: the caller then adds no layer. A router runs every layer in its stack for
 * every request (path match, params, `req.url` bookkeeping: a handful of uncached property
 * accesses on `req`), so a layer that only watches costs more than the watching. Measuring at
 * the entry also covers what the app does before its first middleware, wherever
 * `app.use(agent.middleware())` stands. False (use a layer) for anything else or on failure.
 *
 * Two ways in, neither of them a frame in the app's stack traces when the app is its server's
 * `request` listener (`app.listen()`, `http.createServer(app)`): Node announces each request on
 * the `http.server.request.start` diagnostics channel right before handing it to the listener,
 * and measuring starts there; `app.handle` becomes an accessor that then gives the app's own
 * handle. For a request reaching the app any other way (a listener that calls `app(req, res)`),
 * the accessor gives a wrapper that starts measuring and calls the app's handle. Mounting the
 * same middleware twice is a no-op.
 */
export function measureAtEntry(app: AppLike, fn: unknown, fail: (code: string, err: unknown) => void): boolean {
  try {
    const enter = typeof fn === 'function' ? (fn as { [AT_ENTRY]?: AppEntry })[AT_ENTRY] : undefined;
    if (typeof enter !== 'function' || !isApp(app)) return false;
    type Handle = ((req: unknown, res: unknown, callback: unknown) => unknown) & { [ENTRY]?: AppEntry; [INNER]?: Handle };
    const inner = app.handle as Handle;
    for (let h: Handle | undefined = inner; h !== undefined; h = h[INNER]) if (h[ENTRY] === enter) return true;
    const handle: Handle = function handle(this: unknown, req: unknown, res: unknown, callback: unknown) {
      return enter(this, inner, req, res, callback);
    };
    Object.defineProperty(handle, ENTRY, { value: enter });
    Object.defineProperty(handle, INNER, { value: inner });
    Object.defineProperty(app, 'handle', {
      configurable: true,
      enumerable: true,
      get(this: AppLike) {
        if (started.app !== this) return handle;
        started.app = undefined;
        return inner;
      },
      set(this: AppLike, value: unknown) {
        // Replaced by someone else: a plain property again, theirs.
        Object.defineProperty(this, 'handle', { configurable: true, enumerable: true, writable: true, value });
      },
    });
    if (typeof enter.start === 'function') {
      entryApps.set(app, enter);
      if (!subscribedToStarts) {
        subscribedToStarts = true;
        subscribe('http.server.request.start', onRequestStart);
      }
    }
    return true;
  } catch (err) {
    fail('express.app', err);
    return false;
  }
}

/** Apps measured at their entry → their measuring entry. */
const entryApps = new WeakMap<object, AppEntry>();
/** Server → the entry-measured app that is its `request` listener (null: none), found at its first request. */
const serverApps = new WeakMap<object, AppLike | null>();
/** The app whose request was just started from the channel: its next `handle` read is the server's call. */
const started: { app: AppLike | undefined } = { app: undefined };
let subscribedToStarts = false;

function onRequestStart(message: unknown): void {
  started.app = undefined;
  try {
    const { request, response, server } = message as { request: object; response: object; server: { listeners?(event: string): unknown[] } };
    let app = serverApps.get(server);
    if (app === undefined) {
      const listener = typeof server.listeners === 'function' ? server.listeners('request').find((l) => entryApps.has(l as object)) : undefined;
      app = (listener as AppLike | undefined) ?? null;
      serverApps.set(server, app);
    }
    const start = app === null ? undefined : entryApps.get(app)?.start;
    if (start === undefined) return;
    start(request, response);
    started.app = app!;
  } catch {
    /* the wrapper measures it */
  }
}

