/**
 * The agent's back end: everything that keeps, judges and serves the figures
 * and that no request of the app waits for: the metrics' sketches and windows,
 * the history on disk, the slow log, alert evaluation and the health score,
 * the local HTTP/WebSocket server with its snapshots, deltas and Prometheus
 * text. It runs in the agent's worker thread (agent/worker/), or in the app's
 * main thread when the worker cannot start or is turned off.
 *
 * What stays with the app (the request path, the cache, the rate limiters,
 * spans, findings and profiles, the event-loop figures) reaches it as a
 * FrontView: read-only figures, and the commands that act on those parts.
 */
import {
  type AgentInfo,
  type Alert,
  type CacheStats,
  type CommandArgs,
  type CommandName,
  type CommandResults,
  type EndpointStats,
  type Finding,
  type HealthReport,
  PROTOCOL_VERSION,
  type RateLimitStats,
  type SlowRequest,
  type Snapshot,
  type Thresholds,
} from '../protocol';
import { createAlerts } from './alerts';
import type { EventCursor, EventRead } from './cache/stats';
import { type CommandHandlers, FRONT_COMMANDS, commandTable, runHandler } from './commands';
import { openFeed } from './feed';
import { History } from './history';
import type { ResolvedHistory } from './history/options';
import type { AgentHost, Alerts, CommandSource, Metrics, SlowQuerySummary } from './internal';
import type { Diagnostics } from './log';
import { type MetricsCore, type MetricsOptions, createMetrics } from './metrics';
import { type LocalServer, startServer } from './server';
import { SpanKeeper, type TraceKeeper } from './spans/keep';
import { type ResolvedSlowLog, SlowLogFile } from './slowlog-file';

/** What the back end is configured with: plain data, so it crosses to the worker as it is. */
export interface BackendOptions {
  name: string;
  version: string;
  maxEndpoints: number;
  thresholds: Thresholds;
  evaluateMs: number;
  systemMs: number;
  slowLog: ResolvedSlowLog | false;
  history: ResolvedHistory | false;
  /** The app's thread traces requests (false: spans off); `sampled`: not every request. */
  spans: false | { sampled: boolean };
  server: false | {
    port: number;
    host: string;
    allowNonLoopback: boolean;
    token: string;
    batchMs: number;
    heartbeatMs: number;
    /** Where the discovery file goes (false: none); decided by the app's thread, which knows its other agents. */
    discoveryDir: string | false;
  };
}

/** What the back end reads of the parts that live with the app. */
export interface FrontView {
  info(): AgentInfo;
  cache: { stats(): CacheStats; revision(): number; readEvents(cursor?: EventCursor): EventRead } | undefined;
  rateLimits: { list(): RateLimitStats[]; revision(): number };
  findings: { list(): Finding[]; revision(): number; slowQueries(): SlowQuerySummary[] } | undefined;
  paused(): boolean;
  /** See AgentHost.settle: present when the app's parts are in another thread. */
  sync?(): Promise<void>;
  /** Runs one of FRONT_COMMANDS with the app's parts. */
  execute(command: CommandName, args: unknown, source: CommandSource): Promise<unknown>;
}

/** Where the back end's metrics take the process figures from, and whom they tell of what they drop (the worker's link). */
export type MetricsSources = Pick<MetricsOptions, 'system' | 'pull' | 'onRemoved'>;

/** Where the local server listens. */
export interface ServerAddress {
  port: number;
  host: string;
  url: string;
  token: string;
  discoveryFile?: string;
}

export class Backend {
  readonly metrics: MetricsCore;
  readonly alerts: Alerts;
  readonly history: History | undefined;
  /** The traces and summaries of traced requests, handed over by the app's thread. */
  readonly spans: SpanKeeper | undefined;
  private readonly slowLog: SlowLogFile | undefined;
  private readonly evaluateTimer: NodeJS.Timeout;
  private readonly commands: CommandHandlers;
  private server: LocalServer | undefined;
  /** Grows with every `thresholds.set`. */
  private thresholdsRevision = 0;
  private evaluated: (() => void) | undefined;
  private commandDone: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(
    private readonly options: BackendOptions,
    private readonly front: FrontView,
    private readonly diag: Diagnostics,
    metrics: MetricsSources = {},
  ) {
    const o = options;
    this.alerts = createAlerts({ thresholds: o.thresholds, diag });
    if (o.history) this.history = new History(o.history, { diag });
    if (o.spans) this.spans = new SpanKeeper(o.spans.sampled);
    this.metrics = createMetrics({ maxEndpoints: o.maxEndpoints, slowMs: o.thresholds.slowMs, diag, systemIntervalMs: o.systemMs, history: this.history, ...metrics });
    const m = this.metrics;
    if (o.slowLog) this.slowLog = new SlowLogFile(o.slowLog, (since) => m.slowSince(since), diag);
    this.evaluateTimer = setInterval(() => this.evaluate(), o.evaluateMs);
    this.evaluateTimer.unref();
    const unused = (): never => {
      throw new Error('a front command reached the back end');
    };
    this.commands = commandTable({
      snapshot: () => this.snapshot(),
      metrics: () => m,
      spans: () => this.spans,
      alerts: () => this.alerts,
      cache: unused,
      rateLimits: unused,
      findings: unused,
      profiler: unused,
      history: () => this.history,
      thresholdsSet: () => {
        this.thresholdsRevision++;
      },
      setPaused: unused,
    });
  }

  /** The full current state, as streamed to the editor. */
  snapshot(): Snapshot {
    const m = this.metrics;
    const f = this.front;
    const cache = f.cache?.stats();
    return {
      protocolVersion: PROTOCOL_VERSION,
      agent: f.info(),
      time: Date.now(),
      endpoints: m.endpoints(),
      system: m.system(),
      alerts: this.alerts.active(),
      alertHistory: this.alerts.history(),
      thresholds: this.alerts.thresholds(),
      health: this.alerts.health(),
      slowRequests: m.slowRequests(),
      ...(cache ? { cache } : {}),
      rateLimits: f.rateLimits.list(),
      droppedEndpoints: m.droppedEndpoints(),
      paused: f.paused(),
      ...(f.findings ? { findings: f.findings.list() } : {}),
    };
  }

  /** Runs one validated command: the back end's own, or the front's. */
  execute<C extends CommandName>(command: C, args: CommandArgs<C>, source: CommandSource): Promise<CommandResults[C]> {
    if (FRONT_COMMANDS.has(command)) return this.front.execute(command, args, source) as Promise<CommandResults[C]>;
    return runHandler(this.commands[command], args, source);
  }

  /** The local server's port while it listens. */
  get port(): number | undefined {
    return this.server?.port;
  }

  /**
   * `listener` runs after each command a client of the local server ran, and its answer waits for
   * it: the app's thread then knows what the command changed (thresholds) before the client hears back.
   */
  onCommandDone(listener: () => Promise<void>): void {
    this.commandDone = listener;
  }

  /** `listener` runs after each evaluation of the alerts (one listener). */
  onEvaluated(listener: () => void): void {
    this.evaluated = listener;
  }

  /** Starts the local server; undefined when it is off or could not start (said in the log). */
  async listen(): Promise<ServerAddress | undefined> {
    const s = this.options.server;
    if (s === false) return undefined;
    try {
      const server = await startServer(this.host(), { ...s, name: this.options.name, version: this.options.version, diag: this.diag });
      if (this.closed || !server.enabled) {
        await server.close();
        return undefined;
      }
      this.server = server;
      return { port: server.port, host: server.host, url: server.url, token: server.token, ...(server.discoveryFile ? { discoveryFile: server.discoveryFile } : {}) };
    } catch (err) {
      this.diag.failure('server', err);
      return undefined;
    }
  }

  /** Stops the timers and the server; writes what the history and the slow log still hold. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.evaluateTimer);
    this.metrics.endpoints(); // aggregates what is queued, so the history's last minute has it
    await Promise.allSettled([this.server?.close(), this.slowLog?.close(), this.history?.close()]);
    this.metrics.close();
  }

  private evaluate(): void {
    try {
      const m = this.metrics;
      const f = this.front;
      this.alerts.evaluate({ endpoints: m.alertEndpoints(), system: m.system(), cache: f.cache?.stats(), rateLimits: f.rateLimits.list(), slowLastMinute: m.slowLastMinute(), slowQueries: f.findings?.slowQueries() });
      this.evaluated?.();
    } catch (err) {
      this.diag.failure('evaluate', err);
    }
  }

  private host(): AgentHost {
    const f = this.front;
    const sync = f.sync?.bind(f);
    return {
      info: () => f.info(),
      snapshot: () => this.snapshot(),
      sketches: () => this.metrics.sketches(),
      openFeed: () =>
        openFeed({
          clock: Date.now,
          metrics: this.metrics,
          alerts: this.alerts,
          thresholdsRevision: () => this.thresholdsRevision,
          cache: f.cache,
          rateLimits: f.rateLimits,
          paused: () => f.paused(),
          // Read at every delta: in the worker, the app's findings appear with its first report, maybe after a client connected.
          get findings() {
            return f.findings;
          },
        }),
      execute: async (command, args, source) => {
        const result = await this.execute(command, args, source);
        await this.commandDone?.();
        return result;
      },
      ...(sync ? { settle: sync } : {}),
    };
  }
}

/** The back end as the app's thread reaches it: in this thread (LocalBack), or in the agent's worker (agent/worker/link.ts). */
export interface BackLink {
  /** Where the request path and custom timings record. */
  readonly recorder: Pick<Metrics, 'registerRoute' | 'record' | 'recordCustom'>;
  /** Where the span recorder hands traced requests (undefined with spans off). */
  readonly traces: TraceKeeper | undefined;
  snapshot(): Snapshot;
  /** One endpoint's figures, by id. */
  endpoint(id: string): EndpointStats | undefined;
  /** What the app's parts know of an endpoint without its figures: its kind and source locations. */
  describe(id: string): Pick<EndpointStats, 'kind' | 'location' | 'handlerLocation'> | undefined;
  /** Runs one of the back end's commands. */
  execute<C extends CommandName>(command: C, args: CommandArgs<C>, source: CommandSource): Promise<CommandResults[C]>;
  thresholds(): Thresholds;
  health(): HealthReport;
  firing(): Alert[];
  /** A slow query (from the findings) into the slow log. */
  recordSlowEntry(entry: SlowRequest): void;
  onAlert(listener: (alert: Alert) => void): void;
  /** Starts the local server (when configured). */
  listen(): Promise<ServerAddress | undefined>;
  /** The local server's port while it listens. */
  readonly port: number | undefined;
  close(): Promise<void>;
}

/** The back end in the app's own thread. */
export class LocalBack implements BackLink {
  readonly recorder: MetricsCore;
  readonly traces: TraceKeeper | undefined;

  constructor(private readonly backend: Backend) {
    this.recorder = backend.metrics;
    this.traces = backend.spans;
  }

  snapshot(): Snapshot {
    return this.backend.snapshot();
  }

  endpoint(id: string): EndpointStats | undefined {
    return this.backend.metrics.endpoint(id);
  }

  describe(id: string): Pick<EndpointStats, 'kind' | 'location' | 'handlerLocation'> | undefined {
    return this.backend.metrics.endpoint(id);
  }

  execute<C extends CommandName>(command: C, args: CommandArgs<C>, source: CommandSource): Promise<CommandResults[C]> {
    return this.backend.execute(command, args, source);
  }

  thresholds(): Thresholds {
    return this.backend.alerts.thresholds();
  }

  health(): HealthReport {
    return this.backend.alerts.health();
  }

  firing(): Alert[] {
    return this.backend.alerts.active();
  }

  recordSlowEntry(entry: SlowRequest): void {
    this.backend.metrics.recordSlowEntry(entry);
  }

  onAlert(listener: (alert: Alert) => void): void {
    this.backend.alerts.onFire(listener);
  }

  listen(): Promise<ServerAddress | undefined> {
    return this.backend.listen();
  }

  get port(): number | undefined {
    return this.backend.port;
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}
