/**
 * The agent: composes metrics, alerts, the Express integration, the cache,
 * rate limits and the local server into one object. Features are decided
 * here, once; a disabled agent's middleware is a plain `next()`.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { RequestHandler } from 'express';
import type { Middleware } from './api-types';
import {
  type Alert,
  type CommandArgs,
  type CommandName,
  type CommandResults,
  type EndpointStats,
  PROTOCOL_VERSION,
  type Snapshot,
} from '../protocol';
import type { BackendOptions, BackLink, FrontView } from './backend';
import { type Cache, type CacheOptions, createCache } from './cache';
import { type ResponseCacheOptions, createResponseCache } from './cache/response';
import { type CommandHandler, type CommandHandlers, FRONT_COMMANDS, commandTable, runHandler } from './commands';
import { RouteLensError } from './errors';
import { type HealthHandlerOptions, createHealthHandler } from './health-endpoint';
import { type RouteTable, findExpressModules, instrumentExpress } from './express/instrument';
import { createMiddleware } from './express/middleware';
import { FindingsEngine } from './findings';
import { RouteProfiler } from './profile';
import type { Alerts, CommandSource, MeasuringSwitch, RequestSample } from './internal';
import { Diagnostics } from './log';
import { appNamespace } from './namespace';
import { appPortsField } from './server/app-ports';
import { type AgentOptions, type ResolvedOptions, resolveOptions } from './options';
import { type RateLimitMiddleware, type RateLimitOptions, type RateLimits, createRateLimits } from './ratelimit';
import { defaultDiscoveryDir } from './server/discovery';
import { inlineBack, startWorkerBack } from './worker/link';
import { currentContext } from './context';
import { CALL_SITE, type SpanRecorder, startSpans, stopSpans, withSpan } from './spans';

declare const __ROUTELENS_VERSION__: string;
export const VERSION: string = typeof __ROUTELENS_VERSION__ === 'string' ? __ROUTELENS_VERSION__ : '0.0.0-dev';

const passThrough: RequestHandler = (_req, _res, next) => next();

/**
 * The discovery directory of each live agent with a local server in this process (on globalThis,
 * so two copies of the package still see each other). The discovery file is named after the pid:
 * a second agent advertising in the same directory would overwrite the first's.
 */
const ADVERTISED = Symbol.for('routelens.advertisedDiscoveryDirs');
function advertised(): Map<object, string | false> {
  const g = globalThis as { [ADVERTISED]?: Map<object, string | false> };
  return (g[ADVERTISED] ??= new Map());
}

export interface AgentEvents {
  alert: [Alert];
  listening: [{ port: number; url: string }];
}

export class Agent extends EventEmitter<AgentEvents> {
  readonly options: ResolvedOptions;
  readonly diag: Diagnostics;
  /** The app's two-tier cache (works even when measuring is disabled). Undefined with `cache: false`. */
  readonly cache: Cache | undefined;
  /** The figures, their server and alerts: in the agent's worker, or in this thread. Undefined when measuring is off. */
  private readonly back: BackLink | undefined;
  /** Why routes are slow: fed each finished trace through `findings.observe(trace)` (the span recorder's listener). */
  private readonly findings: FindingsEngine | undefined;
  /** "Profile this route": one CPU profile at a time. */
  private readonly profiler: RouteProfiler | undefined;
  /** Span recording (undefined when off); `spans.onTrace(listener)` hears every traced request. */
  readonly spans: SpanRecorder | undefined;
  /** A disabled agent's alerts (none ever fire): what its health endpoint and snapshot show. */
  private readonly idleAlerts: Alerts | undefined;
  private readonly rateLimits: RateLimits;
  private readonly startedAt = Date.now();
  private readonly handler: RequestHandler;
  private readonly instrumented = new Set<unknown>();
  private routeTables: RouteTable[] = [];
  private serverStart: Promise<{ port: number; url: string; token: string; discoveryFile?: string } | undefined> | undefined;
  /** Read first by the measuring middleware on every request. */
  private readonly measuring: MeasuringSwitch = { paused: false };
  private closed = false;

  constructor(options: AgentOptions = {}) {
    super();
    this.options = resolveOptions(options);
    const o = this.options;
    this.diag = new Diagnostics(o.logger);
    for (const w of o.warnings) this.diag.warnOnce(w.code, w.message, w.once);
    const thresholds = o.thresholds;

    if (o.cache !== false) {
      const cacheOptions: CacheOptions = o.cache.redis === undefined && o.redis !== undefined ? { ...o.cache, redis: o.redis } : { ...o.cache };
      if (cacheOptions.prefix === undefined) cacheOptions.prefix = appNamespace(o.name);
      this.cache = createCache(cacheOptions, { diag: this.diag });
    }
    this.rateLimits = createRateLimits({ diag: this.diag, redis: o.redis, namespace: appNamespace(o.name), resolveRoute: (method, path) => this.matchRoute(method, path) });

    if (o.enabled) {
      const backOptions = this.backendOptions(o.server ? this.claimDiscovery() : false);
      const front = this.frontView();
      const back = (o.worker && startWorkerBack(backOptions, front, this.diag)) || inlineBack(backOptions, front, this.diag);
      this.back = back;
      back.onAlert((alert) => this.emitSafely('alert', alert));
      const metrics = back.recorder;
      const spans = o.spans === false ? undefined : startSpans(o.spans, this.diag);
      this.spans = spans;
      if (spans !== undefined && back.traces !== undefined) spans.keepInto(back.traces);
      const recorder = spans === undefined ? metrics : { registerRoute: metrics.registerRoute.bind(metrics), record: (s: RequestSample) => {
        metrics.record(s);
        spans.finish(s);
      } };
      this.handler = createMiddleware(recorder, { diag: this.diag, measuring: this.measuring, requestIdHeader: o.requestIdHeader });
      this.findings = this.createFindings(back);
      front.findings = this.findings;
      this.profiler = this.createProfiler(back, this.findings);
      const findings = this.findings;
      if (spans !== undefined && findings !== undefined) spans.onTrace((trace) => findings.observe(trace));
      for (const mod of [o.express, ...findExpressModules()]) if (mod) this.instrument(mod);
      if (o.server) this.serverStart = this.listen(back);
    } else {
      // Loaded here only: with the agent on, the alerts are judged in the back end.
      const { createAlerts } = require('./alerts') as typeof import('./alerts');
      this.idleAlerts = createAlerts({ thresholds, diag: this.diag });
      this.handler = passThrough;
    }
  }

  /**
   * Express middleware that measures every request: `app.use(agent.middleware())`. On an app
   * created after the agent it takes no place in the router: the app's entry is measured.
   */
  middleware(): Middleware {
    return this.handler as unknown as Middleware;
  }

  /**
   * Instruments an Express module so routes are known (with their source locations) as they are
   * registered. The agent finds the app's `express` by itself; call this when it cannot.
   */
  instrument(expressModule: unknown): void {
    if (!this.back || this.instrumented.has(expressModule)) return;
    this.instrumented.add(expressModule);
    try {
      const metrics = this.back.recorder;
      const table = instrumentExpress(expressModule, { registerRoute: (def) => metrics.registerRoute(def), diag: this.diag });
      if (table) this.routeTables.push(table);
    } catch (err) {
      this.diag.failure('instrument', err);
    }
  }

  /**
   * Stops measuring until `resume()`: the middleware then only passes requests on (one branch),
   * and custom timings are not recorded. Figures so far stay; requests already in flight are
   * still counted. Also from the editor and the `measuring.set` command. Idempotent.
   */
  pause(): void {
    this.setPaused(true);
  }

  /** Measures again after `pause()`. Idempotent. */
  resume(): void {
    this.setPaused(false);
  }

  /** True while measuring is paused. */
  get paused(): boolean {
    return this.measuring.paused;
  }

  /** Times `fn` (sync or async) as a custom timing called `name`. Returns what fn returns; errors pass through unchanged. */
  time<T>(name: string, fn: () => T): T {
    if (!this.back || this.measuring.paused) return fn();
    const start = performance.now();
    let result: T;
    try {
      result = this.spans === undefined ? fn() : withSpan('custom', String(name), 'agent.time', CALL_SITE, false, fn);
    } catch (err) {
      this.recordSafely(name, performance.now() - start, true);
      throw err;
    }
    if (result instanceof Promise) {
      return result.then(
        (v) => {
          this.recordSafely(name, performance.now() - start, false);
          return v;
        },
        (err: unknown) => {
          this.recordSafely(name, performance.now() - start, true);
          throw err;
        },
      ) as T;
    }
    this.recordSafely(name, performance.now() - start, false);
    return result;
  }

  /** The id of the request being handled (its `X-Request-Id`, or the one the agent generated); undefined outside a request. */
  requestId(): string | undefined {
    return currentContext()?.requestId;
  }

  /** Records a custom timing measured elsewhere (ms). */
  record(name: string, ms: number, options: { error?: boolean } = {}): void {
    this.recordSafely(name, ms, options.error === true);
  }

  /**
   * One endpoint's figures (`'GET /users/:id'`) or one custom timing's (`'db.query'`, as given to
   * `time`/`record`): count, errors, min/avg/max, percentiles and windows. Undefined when nothing
   * by that name was registered or recorded, or when measuring is off.
   */
  stats(name: string): EndpointStats | undefined {
    const b = this.back;
    if (!b || typeof name !== 'string') return undefined;
    return b.endpoint(name) ?? b.endpoint(`CUSTOM ${name}`);
  }

  /** Response cache middleware for GET/HEAD routes (see docs/cache.md). */
  cacheResponses(options: ResponseCacheOptions): Middleware {
    if (!this.cache) throw new RouteLensError('ROUTELENS_ERR_INVALID_OPTION', 'cacheResponses needs the cache: do not pass `cache: false`');
    return createResponseCache(this.cache, options);
  }

  /** Rate-limiting middleware (see docs/ratelimit.md). */
  rateLimit(options: RateLimitOptions = {}): RateLimitMiddleware {
    return this.rateLimits.create(options);
  }

  /**
   * A health endpoint for load balancers: `app.get('/health', agent.healthHandler())` answers
   * 200 with `{ status, score, reasons }` when healthy or degraded and 503 when unhealthy
   * (statuses configurable). Unauthenticated: reasons are alert rule codes, nothing more.
   */
  healthHandler(options?: HealthHandlerOptions): Middleware {
    return createHealthHandler({ health: () => (this.back ?? this.idleAlerts!).health(), firing: () => this.back?.firing() ?? [] }, options);
  }

  /** The full current state, as streamed to the editor. */
  snapshot(): Snapshot {
    if (this.back) return this.back.snapshot();
    const alerts = this.idleAlerts!;
    const cache = this.cache?.stats();
    return {
      protocolVersion: PROTOCOL_VERSION,
      agent: this.info(),
      time: Date.now(),
      endpoints: [],
      system: emptySystem(),
      alerts: alerts.active(),
      alertHistory: alerts.history(),
      thresholds: alerts.thresholds(),
      health: alerts.health(),
      slowRequests: [],
      ...(cache ? { cache } : {}),
      rateLimits: this.rateLimits.list(),
      droppedEndpoints: 0,
      paused: this.measuring.paused,
    };
  }

  /** Resolves once the local server listens (undefined when disabled or it could not start). */
  async ready(): Promise<{ port: number; url: string; token: string; discoveryFile?: string } | undefined> {
    return this.serverStart;
  }

  get port(): number | undefined {
    return this.back?.port;
  }

  /** Stops timers, the server, Redis connections; removes the discovery file. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    advertised().delete(this);
    this.findings?.close();
    this.profiler?.cancel();
    await this.serverStart?.catch(() => undefined);
    await Promise.allSettled([this.back?.close(), this.cache?.close(), this.rateLimits.close()]);
    for (const table of this.routeTables) table.detach();
    this.routeTables = [];
    if (this.spans) stopSpans(this.spans);
    this.removeAllListeners();
  }

  // ------------------------------------------------------------ internals

  private info() {
    return {
      name: this.options.name,
      pid: process.pid,
      version: VERSION,
      protocolVersion: PROTOCOL_VERSION,
      cwd: process.cwd(),
      startedAt: this.startedAt,
      features: this.features(),
      ...appPortsField(this.back?.port),
    };
  }

  /** What this agent has: `cache`, `redis` (the cache or the limiters use Redis), `rateLimit` (at least one limiter), `slowLog` (on disk). */
  private features(): string[] {
    const features: string[] = [];
    if (this.cache) features.push('cache');
    if (this.options.redis !== undefined || (this.options.cache !== false && this.options.cache.redis !== undefined)) features.push('redis');
    if (this.rateLimits.list().length > 0) features.push('rateLimit');
    if (this.options.slowLog) features.push('slowLog');
    return features;
  }

  private createFindings(back: BackLink): FindingsEngine {
    const cache = this.cache;
    return new FindingsEngine({
      thresholds: () => back.thresholds(),
      routeLocation: (endpoint) => {
        const e = back.describe(endpoint);
        return e?.handlerLocation ?? e?.location;
      },
      ...(cache ? { cacheEvents: (cursor) => cache.readEvents(cursor) } : {}),
      onSlowQuery: (entry) => back.recordSlowEntry(entry),
      diag: this.diag,
    });
  }

  /** The route's frames: its handler, its registration site, and the handler and middleware its traces showed. */
  private createProfiler(back: BackLink, findings: FindingsEngine): RouteProfiler {
    return new RouteProfiler({
      routeFrames: (endpoint) => {
        const e = back.describe(endpoint);
        if (!e || e.kind === 'custom' || e.kind === 'overflow') return undefined;
        return [e.handlerLocation, e.location, ...findings.routeFrames(endpoint)].filter((l) => l !== undefined);
      },
      requestCount: (endpoint) => back.endpoint(endpoint)?.count ?? 0,
      dir: () => join(process.cwd(), '.routelens', 'profiles'),
    });
  }

  private matchRoute(method: string, path: string): string | undefined {
    for (const table of this.routeTables) {
      const route = table.match(method, path);
      if (route !== undefined) return route;
    }
    return undefined;
  }

  private setPaused(paused: boolean): void {
    if (this.measuring.paused === paused) return;
    this.measuring.paused = paused;
    this.diag.info(paused ? 'measuring paused' : 'measuring resumed');
  }

  private recordSafely(name: string, ms: number, error: boolean): void {
    if (this.measuring.paused) return;
    try {
      this.back?.recorder.recordCustom(String(name), ms, error);
    } catch (err) {
      this.diag.failure('record', err);
    }
  }

  private emitSafely<K extends keyof AgentEvents>(event: K, ...args: AgentEvents[K]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.diag.failure(`listener:${event}`, err);
    }
  }


  /**
   * Registers this agent's server and returns where it may write its discovery file: nowhere when
   * an earlier live agent in this process already advertises in the same directory (warned once).
   */
  private claimDiscovery(): string | false {
    const dir = this.options.discoveryDir === false ? false : (this.options.discoveryDir ?? defaultDiscoveryDir());
    const others = [...advertised().values()];
    const clash = dir !== false && others.includes(dir);
    advertised().set(this, clash ? false : dir);
    if (others.length === 0) return dir;
    this.diag.warnOnce(
      'ROUTELENS_WARN_SECOND_AGENT',
      `a RouteLens agent is already running in this process (the preload, or an earlier createAgent): this one ${clash ? 'writes no discovery file, so the editor keeps showing the first' : 'runs a second local server'}. Create one agent per process; with --require/--import routelens/register, do not call createAgent too`,
    );
    return clash ? false : dir;
  }

  private async listen(back: BackLink): Promise<{ port: number; url: string; token: string; discoveryFile?: string } | undefined> {
    const address = await back.listen();
    if (address === undefined) return undefined;
    if (this.closed) return undefined;
    this.emitSafely('listening', { port: address.port, url: address.url });
    return address;
  }

  /** The back end's configuration: plain data (it may cross to the worker). */
  private backendOptions(discoveryDir: string | false): BackendOptions {
    const o = this.options;
    return {
      name: o.name,
      version: VERSION,
      maxEndpoints: o.maxEndpoints,
      thresholds: o.thresholds,
      evaluateMs: o.evaluateMs,
      systemMs: o.systemMs,
      slowLog: o.slowLog,
      history: o.history,
      spans: o.spans === false ? false : { sampled: o.spans.sample !== 'all' },
      server: o.server ? { port: o.port, host: o.host, allowNonLoopback: o.allowNonLoopback, token: o.token, batchMs: o.batchMs, heartbeatMs: o.heartbeatMs, discoveryDir } : false,
    };
  }

  /** What the back end reads of this thread's parts, and how it runs their commands. */
  private frontView(): FrontView {
    return {
      info: () => this.info(),
      cache: this.cache,
      rateLimits: this.rateLimits,
      findings: undefined, // set once made: the findings read the back end's thresholds
      paused: () => this.measuring.paused,
      execute: (command, args, source) => runHandler(this.commands[command] as CommandHandler<CommandName>, args as CommandArgs<CommandName>, source),
    };
  }

  /** The handlers of the commands this thread runs (FRONT_COMMANDS); the rest go to the back end. */
  private readonly commands: CommandHandlers = commandTable({
    snapshot: () => this.snapshot(),
    metrics: () => this.back && { endpoint: (id: string) => this.back?.endpoint(id), reset: backOnly, setSlowThresholds: backOnly },
    spans: () => undefined, // traces.list and endpoint.breakdown run in the back end
    alerts: () => this.idleAlerts!,
    cache: () => this.cache,
    rateLimits: () => this.rateLimits,
    findings: () => this.findings,
    profiler: () => this.profiler,
    history: () => undefined,
    thresholdsSet: () => {},
    setPaused: (paused) => {
      this.setPaused(paused);
      return this.measuring.paused;
    },
  });

  /** Runs one command whose arguments the protocol module validated. */
  execute<C extends CommandName>(command: C, args: CommandArgs<C>, source: CommandSource = 'app'): Promise<CommandResults[C]> {
    if (this.back && !FRONT_COMMANDS.has(command)) return this.back.execute(command, args, source);
    return runHandler(this.commands[command], args, source);
  }
}

/** A part of the command table only the back end's commands use. */
function backOnly(): never {
  throw new Error('a back-end command reached the front');
}

function emptySystem(): Snapshot['system'] {
  const m = process.memoryUsage();
  return {
    pid: process.pid,
    nodeVersion: process.version,
    uptime: process.uptime(),
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    heapLimit: 0,
    external: m.external,
    cpuPercent: 0,
    eventLoop: { delayP50: 0, delayP99: 0, delayMax: 0, utilization: 0 },
    gc: { count: 0, pauseTotal: 0, pauseMax: 0 },
    requestsPerSecond: 0,
    errorRate: 0,
    time: Date.now(),
  };
}
