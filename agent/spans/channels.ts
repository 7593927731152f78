/**
 * The span sources that are diagnostics channels, subscribed once per process:
 *   - `http.client.request.start` / `http.client.response.finish` (node:http and https clients);
 *     a span ends when the client request closes (its response read, or it failed);
 *   - `undici:request:create` / `:headers` / `:trailers` / `:error` (undici, and so global fetch);
 *   - the TracingChannels `mysql2:query`, `mysql2:execute` (mysql2 ≥ 3.20), `ioredis:command`
 *     (ioredis ≥ 5.11), `node-redis:command` (node-redis ≥ 5.12), and `pg:query`: published
 *     by pg itself once brianc/node-postgres#3650 lands, by our wrapper (pg.ts) until then.
 * A span starts in the publisher's synchronous call, in the caller's async context; it ends from
 * whatever context the library finishes in, through the handle kept with the message.
 */
import { subscribe, tracingChannel } from 'node:diagnostics_channel';
import http from 'node:http';
import https from 'node:https';
import { httpName, normaliseQuery, redisName } from './normalize';
import { type RequestContext, requestContext } from '../context';
import { CALL_SITE, type OpenSpan, endSpan, siteContext, startSpan, withCallSite } from './recorder';

let installed = false;

/** Subscribes every channel source (idempotent; inert while no agent records spans). */
export function installChannels(): void {
  if (installed) return;
  installed = true;
  httpClient();
  undici();
  for (const name of ['mysql2:query', 'mysql2:execute']) traced(name, 'db', 'mysql2', (m) => normaliseQuery(m.query));
  // A pooled connection is handed to a waiting caller from another request's release: the
  // callback runs in its caller's context again, with the caller's call site.
  keepContext('mysql2:pool:connect', true);
  traced('pg:query', 'db', 'pg', (m) => normaliseQuery(typeof m.query === 'object' && m.query !== null ? (m.query as { text?: unknown }).text : m.query));
  traced('ioredis:command', 'redis', 'ioredis', (m) => redisName(m.command, m.args as unknown[] | undefined));
  callSites();
  traced('node-redis:command', 'redis', 'node-redis', (m) => redisName(m.command, (m.args as unknown[] | undefined)?.slice(1)));
}

type Message = Record<string, unknown>;

const SAVED = Symbol('routelens.spans.context');

/**
 * TracingChannel's "context recovery": the context current at `start` (a child carrying the
 * caller's call site when `site`) is the one the library's callback runs in (`asyncStart`),
 * whatever context the library called back from.
 */
function keepContext(channel: string, site: boolean): void {
  const tc = tracingChannel(channel);
  tc.start.bindStore(requestContext, (m) => {
    const store = site ? siteContext() : requestContext.getStore();
    (m as { [SAVED]?: RequestContext })[SAVED] = store;
    return store as RequestContext;
  });
  tc.asyncStart.bindStore(requestContext, (m) => (m as { [SAVED]?: RequestContext })[SAVED] as RequestContext);
}

/** A TracingChannel: the span starts on `start`, ends on `asyncStart` (the reply came) or a synchronous `end` without a callback. */
function traced(channel: string, kind: 'db' | 'redis', source: string, name: (m: Message) => string): void {
  keepContext(channel, false);
  const open = new WeakMap<object, OpenSpan>();
  tracingChannel(channel).subscribe({
    start(m) {
      const span = startSpan(kind, name(m as Message), source, CALL_SITE);
      if (span !== undefined) open.set(m as object, span);
    },
    end() {},
    asyncStart(m) {
      const span = open.get(m as object);
      if (span === undefined) return;
      open.delete(m as object);
      endSpan(span, (m as Message).error !== undefined);
    },
    asyncEnd() {},
    error(m) {
      const span = open.get(m as object);
      if (span === undefined) return;
      open.delete(m as object);
      endSpan(span, true);
    },
  });
}

interface ClientRequestLike {
  method?: string;
  host?: string;
  path?: string;
  getHeader?(name: string): unknown;
  once(event: 'close', fn: () => void): unknown;
}

function httpClient(): void {
  const failed = new WeakSet<object>();
  subscribe('http.client.request.start', (message) => {
    const request = (message as { request: ClientRequestLike }).request;
    const span = startSpan('http', httpName(request.method, hostOf(request), request.path), 'http', CALL_SITE);
    if (span === undefined) return;
    // 'close' only: an 'error' listener of ours would hide the app's unhandled errors.
    request.once('close', () => endSpan(span, failed.has(request) || !(request as { res?: unknown }).res));
  });
  subscribe('http.client.response.finish', (message) => {
    const { request, response } = message as { request: object; response: { statusCode?: number } };
    if ((response.statusCode ?? 0) >= 500) failed.add(request);
  });
}

/** `host:port` as the request's Host header says, else the host alone. */
function hostOf(request: ClientRequestLike): string | undefined {
  const header = typeof request.getHeader === 'function' ? request.getHeader('host') : undefined;
  return typeof header === 'string' ? header : request.host;
}

/**
 * undici publishes `request:create` deep in fetch's own promise chain, and node:http publishes
 * `http.client.request.start` a tick after the request is made: the caller's frame is no longer
 * on the stack. So global fetch and the http/https modules' `request` and `get` are wrapped (same
 * name, length and result; nothing else done) to capture a traced request's call site where the
 * app calls them. Code that took `http.get` before the agent started goes without a location.
 */
function callSites(): void {
  siteOf(globalThis as unknown as Record<string, unknown>, 'fetch');
  for (const mod of [http, https] as unknown as Array<Record<string, unknown>>) {
    siteOf(mod, 'request');
    siteOf(mod, 'get');
  }
}

function siteOf(obj: Record<string, unknown>, name: string): void {
  const orig = obj[name] as ((this: unknown, ...args: unknown[]) => unknown) & { [CALL_SITE_WRAPPED]?: true };
  if (typeof orig !== 'function' || orig[CALL_SITE_WRAPPED] === true) return;
  const wrapped = {
    [name](this: unknown) {
      // eslint-disable-next-line prefer-rest-params -- hand the function its caller's own arguments
      const args = arguments;
      return withCallSite(() => orig.apply(this, args as never));
    },
  }[name]!;
  Object.defineProperty(wrapped, CALL_SITE_WRAPPED, { value: true });
  Object.defineProperty(wrapped, 'length', { value: orig.length });
  obj[name] = wrapped;
}
const CALL_SITE_WRAPPED = Symbol.for('routelens.spans.callSite');

function undici(): void {
  const open = new WeakMap<object, OpenSpan>();
  subscribe('undici:request:create', (message) => {
    const request = (message as { request: { method?: string; origin?: unknown; path?: string } }).request;
    const origin = typeof request.origin === 'string' ? request.origin : String(request.origin ?? '');
    const span = startSpan('http', httpName(request.method, origin.replace(/^\w+:\/\//, ''), request.path), 'undici', CALL_SITE);
    if (span !== undefined) open.set(request, span);
  });
  subscribe('undici:request:headers', (message) => {
    const { request, response } = message as { request: object; response: { statusCode?: number } };
    const span = open.get(request);
    if (span !== undefined && (response.statusCode ?? 0) >= 500) span.buffer.spans[span.index]!.error = true;
  });
  const end = (error: boolean) => (message: unknown) => {
    const request = (message as { request: object }).request;
    const span = open.get(request);
    if (span === undefined) return;
    open.delete(request);
    endSpan(span, error);
  };
  subscribe('undici:request:trailers', end(false));
  subscribe('undici:request:error', end(true));
}
