/**
 * A small but real RouteLens agent for the extension's tests: node:http + ws on
 * 127.0.0.1, token auth in the upgrade handler, a discovery file written like
 * the agent's (protocol/discovery.ts, DiscoveryRecord, mode 0600), a snapshot on
 * connect, deltas, and the commands the extension sends, implemented by
 * mutating its own state so tests can check the effect here.
 *
 * Not the agent: no Express instrumentation; figures are set with hit().
 *
 *   const agent = await FakeAgent.start({ dir, cwd, file });
 *   agent.hit('GET /users/:id', 42);   // records a request, broadcasts a delta
 *   await agent.restart();             // new port and token, discovery rewritten
 *   await agent.stop();
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import {
  type Alert,
  type BaselineComparison,
  type Breakdown,
  type Finding,
  type ProfileSummary,
  type Trace,
  type CacheKeyInfo,
  type CacheStats,
  type CommandName,
  type Delta,
  type DiscoveryRecord,
  type EndpointStats,
  type HistoryAnswer,
  HTTP_PATHS,
  type LatencySummary,
  MAX_CLIENT_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  ProtocolError,
  type Snapshot,
  type SourceLocation,
  type Thresholds,
  discoveryFileName,
  toErrorInfo,
} from '../../protocol';
import { parseClientMessage } from '../../protocol/validate';
import { tinyCpuProfile } from './why-fixtures';

export interface FakeRoute {
  method: string;
  route: string;
  location?: SourceLocation;
  handlerLocation?: SourceLocation;
}

export interface FakeAgentOptions {
  /** Discovery directory (ROUTELENS_DISCOVERY_DIR). */
  dir: string;
  name?: string;
  cwd?: string;
  /** pid written to the discovery file (must be a live process); default process.pid. */
  pid?: number;
  routes?: FakeRoute[];
  /** Cache entries: key → namespace and tags. */
  cache?: Array<{ key: string; namespace?: string; tags?: string[] }>;
  /** Delta batch period. */
  batchMs?: number;
}

interface CacheEntry {
  key: string;
  namespace: string;
  tags: string[];
}

interface Samples {
  durations: number[];
  errors: number;
  statuses: Record<string, number>;
  lastSeen: number;
}

const DEFAULT_THRESHOLDS: Thresholds = {
  p95Ms: 500,
  errorRate: 0.05,
  heapPercent: 0.9,
  eventLoopDelayMs: 200,
  cacheHitRate: 0.5,
  rateLimitedShare: 0.2,
  anomalyFactor: 3,
  avgMs: 1000,
  slowPerMinute: 10,
  slowMs: { info: 500, warning: 1000, critical: 3000 },
  slowQueryMs: 1000, cpuPercent: 90, errorSpikeFactor: 3, memoryGrowthFactor: 1.5,
};

export class FakeAgent {
  readonly name: string;
  readonly cwd: string;
  readonly pid: number;
  readonly dir: string;
  port = 0;
  token = '';
  startedAt = 0;
  /** Every command received, in order (after validation). */
  readonly commands: Array<{ command: CommandName; args: unknown }> = [];
  /** How many times a client connected with a valid token. */
  connections = 0;
  /** Handshakes refused (bad token, browser Origin). */
  refused = 0;
  /** When true the agent stops answering anything, pings included (a half-open peer). */
  silent = false;

  readonly routes = new Map<string, FakeRoute>();
  readonly samples = new Map<string, Samples>();
  readonly cache = new Map<string, CacheEntry>();
  alerts: Alert[] = [];
  history: Alert[] = [];
  thresholds: Thresholds = structuredClone(DEFAULT_THRESHOLDS);
  /**
   * What `baseline.compare` answers (canned); undefined answers ERR_UNAVAILABLE,
   * like an agent that records no history. `baseline.set {file}` answers the
   * same endpoints with `source: 'file'` and the file as the name, and later
   * compares follow it; `baseline.set {}` goes back to the branch.
   */
  comparison: BaselineComparison | undefined;
  /** The file of the last `baseline.set`, undefined for the default branch. */
  baselineFile: string | undefined;
  /** What `history.get` answers for an endpoint (canned); an endpoint without one answers ERR_NOT_FOUND. */
  readonly histories = new Map<string, HistoryAnswer>();
  /** Why routes are slow: set with setFindings() (sent in the snapshot and, when changed, a delta). */
  findings: Finding[] = [];
  /** Kept traces and breakdowns per endpoint, answered by `traces.list` and `endpoint.breakdown`. */
  readonly traces = new Map<string, Trace[]>();
  readonly breakdowns = new Map<string, Breakdown>();
  /** What `profile.start` answers (the file is written by the fake); unset: a summary with no functions. */
  profileTop: ProfileSummary['top'] = [];
  /** Real milliseconds a profile second takes here (tests keep profiles short). */
  profileMsPerSecond = 100;
  /** The endpoint being profiled; a second `profile.start` meanwhile is refused, like the agent does. */
  profiling: string | undefined;
  /** Where profiles are written (a temp dir, removed by stop()). */
  readonly profileDir = mkdtempSync(join(tmpdir(), 'routelens-fake-profiles-'));
  private findingsChanged = false;

  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly sockets = new Set<WebSocket>();
  private seq = 0;
  private changed = new Set<string>();
  private alertsChanged = false;
  private cacheChanged = false;
  private batch: NodeJS.Timeout | undefined;
  private readonly batchMs: number;

  private constructor(options: FakeAgentOptions) {
    this.dir = options.dir;
    this.name = options.name ?? 'fake-app';
    this.cwd = options.cwd ?? process.cwd();
    this.pid = options.pid ?? process.pid;
    this.batchMs = options.batchMs ?? 50;
    for (const r of options.routes ?? []) this.routes.set(`${r.method} ${r.route}`, r);
    for (const c of options.cache ?? []) this.cache.set(c.key, { key: c.key, namespace: c.namespace ?? 'default', tags: c.tags ?? [] });
  }

  static async start(options: FakeAgentOptions): Promise<FakeAgent> {
    const agent = new FakeAgent(options);
    await agent.listen();
    return agent;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}${HTTP_PATHS.stream}`;
  }

  get discoveryFile(): string {
    return join(this.dir, discoveryFileName(this.pid));
  }

  get record(): DiscoveryRecord {
    return {
      pid: this.pid,
      port: this.port,
      host: '127.0.0.1',
      token: this.token,
      cwd: this.cwd,
      name: this.name,
      version: '0.0.0-fake',
      protocolVersion: PROTOCOL_VERSION,
      startedAt: this.startedAt,
    };
  }

  /** Open client sockets right now. */
  clientCount(): number {
    return this.sockets.size;
  }

  private async listen(): Promise<void> {
    this.token = randomBytes(24).toString('base64url');
    this.startedAt = Date.now();
    const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES, perMessageDeflate: false, autoPong: false });
    const server = createServer((req, res) => {
      res.writeHead(404).end();
    });
    server.on('upgrade', (req, socket, head) => this.upgrade(wss, req, socket, head));
    server.on('clientError', (_err, socket) => socket.destroy());
    wss.on('connection', (ws) => this.onConnection(ws));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.wss = wss;
    this.port = (server.address() as AddressInfo).port;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileSync(this.discoveryFile, JSON.stringify(this.record), { mode: 0o600 });
    this.batch = setInterval(() => this.flush(), this.batchMs);
    this.batch.unref();
  }

  private upgrade(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const refuse = (status: number, text: string) => {
      this.refused++;
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      socket.destroy();
    };
    if (req.headers.origin !== undefined) return refuse(403, 'Forbidden');
    if (new URL(req.url ?? '/', 'http://x').pathname !== HTTP_PATHS.stream) return refuse(404, 'Not Found');
    const auth = req.headers.authorization ?? '';
    const given = Buffer.from(auth.startsWith('Bearer ') ? auth.slice(7) : '');
    const expected = Buffer.from(this.token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  }

  private onConnection(ws: WebSocket): void {
    this.connections++;
    this.sockets.add(ws);
    ws.on('error', () => undefined);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('ping', (data) => {
      if (!this.silent) ws.pong(data);
    });
    ws.on('message', (data) => {
      if (this.silent) return;
      void this.onMessage(ws, data.toString());
    });
    this.send(ws, { type: 'snapshot', seq: this.seq, snapshot: this.snapshot() });
  }

  private async onMessage(ws: WebSocket, raw: string): Promise<void> {
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      this.send(ws, { type: 'reply', id: parsed.id, ok: false, error: parsed.error });
      return;
    }
    const { message, args } = parsed;
    this.commands.push({ command: message.command, args });
    try {
      const result = await this.execute(message.command, args as Record<string, unknown>);
      this.send(ws, { type: 'reply', id: message.id, ok: true, result });
    } catch (err) {
      this.send(ws, { type: 'reply', id: message.id, ok: false, error: toErrorInfo(err) });
    }
  }

  private send(ws: WebSocket, msg: unknown): void {
    if (this.silent || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify(msg));
  }

  // ---------------------------------------------------------------- state

  /** Records one request on an endpoint (created when unknown) and schedules a delta. */
  hit(endpointId: string, durationMs: number, status = 200): void {
    if (!this.routes.has(endpointId)) {
      const [method, ...rest] = endpointId.split(' ');
      this.routes.set(endpointId, { method, route: rest.join(' ') });
    }
    const s = this.samples.get(endpointId) ?? { durations: [], errors: 0, statuses: {}, lastSeen: 0 };
    s.durations.push(durationMs);
    if (status >= 500) s.errors++;
    const cls = `${Math.floor(status / 100)}xx`;
    s.statuses[cls] = (s.statuses[cls] ?? 0) + 1;
    s.lastSeen = Date.now();
    this.samples.set(endpointId, s);
    this.changed.add(endpointId);
  }

  endpointStats(id: string): EndpointStats {
    const r = this.routes.get(id);
    if (!r) throw new ProtocolError('ERR_NOT_FOUND', `no endpoint ${id}`);
    const s = this.samples.get(id);
    const summary = summarize(s);
    return {
      id,
      method: r.method,
      route: r.route,
      kind: 'route',
      ...summary,
      statusCodes: { ...(s?.statuses ?? {}) },
      windows: { '1m': summary, '5m': summary, all: summary },
      rate: summary.count / 60,
      location: r.location,
      handlerLocation: r.handlerLocation,
      lastSeen: s?.lastSeen ?? 0,
    };
  }

  /** Fires an alert on an endpoint (or any target). */
  fireAlert(target: string, severity: 'warning' | 'critical' = 'warning', message = `p95 over threshold on ${target}`): Alert {
    const r = this.routes.get(target);
    const alert: Alert = {
      id: `route-p95:${target}:${Date.now()}:${Math.random().toString(36).slice(2, 6)}`,
      rule: 'route-p95',
      target,
      severity,
      state: 'firing',
      message,
      value: 900,
      threshold: this.thresholds.p95Ms,
      firedAt: Date.now(),
      location: r?.handlerLocation ?? r?.location,
    };
    this.alerts.push(alert);
    this.alertsChanged = true;
    return alert;
  }

  /** Replaces the findings; the next delta carries them in full. */
  setFindings(findings: Finding[]): void {
    this.findings = findings;
    this.findingsChanged = true;
  }

  resolveAlert(id: string, by: 'auto' | 'manual' = 'auto'): Alert {
    const a = this.alerts.find((x) => x.id === id);
    if (!a) throw new ProtocolError('ERR_NOT_FOUND', `no firing alert ${id}`);
    this.alerts = this.alerts.filter((x) => x !== a);
    const resolved: Alert = { ...a, state: 'resolved', resolvedAt: Date.now(), resolvedBy: by };
    this.history.unshift(resolved);
    this.alertsChanged = true;
    return resolved;
  }

  snapshot(): Snapshot {
    return {
      protocolVersion: PROTOCOL_VERSION,
      agent: { name: this.name, pid: this.pid, version: '0.0.0-fake', protocolVersion: PROTOCOL_VERSION, cwd: this.cwd, startedAt: this.startedAt, features: ['cache'] },
      time: Date.now(),
      endpoints: [...this.routes.keys()].map((id) => this.endpointStats(id)),
      system: this.system(),
      alerts: [...this.alerts],
      alertHistory: [...this.history],
      thresholds: structuredClone(this.thresholds),
      health: this.health(),
      slowRequests: [],
      cache: this.cacheStats(),
      rateLimits: [],
      droppedEndpoints: 0,
      findings: [...this.findings],
    };
  }

  private system(): Snapshot['system'] {
    const m = process.memoryUsage();
    const count = [...this.samples.values()].reduce((n, s) => n + s.durations.length, 0);
    return {
      pid: this.pid,
      nodeVersion: process.version,
      uptime: (Date.now() - this.startedAt) / 1000,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      heapLimit: 4 * 1024 ** 3,
      external: m.external,
      cpuPercent: 1,
      eventLoop: { delayP50: 1, delayP99: 2, delayMax: 3, utilization: 0.01 },
      gc: { count: 0, pauseTotal: 0, pauseMax: 0 },
      requestsPerSecond: count / 60,
      errorRate: 0,
      time: Date.now(),
    };
  }

  private health(): Snapshot['health'] {
    if (this.alerts.some((a) => a.severity === 'critical')) return { score: 30, status: 'unhealthy', reasons: this.alerts.map((a) => a.message) };
    if (this.alerts.length) return { score: 70, status: 'degraded', reasons: this.alerts.map((a) => a.message) };
    return { score: 100, status: 'healthy', reasons: [] };
  }

  private cacheStats(): CacheStats {
    const byNs = new Map<string, number>();
    for (const e of this.cache.values()) byNs.set(e.namespace, (byNs.get(e.namespace) ?? 0) + 1);
    const zero = { hits: 0, misses: 0, hitRate: 0 };
    return {
      enabled: true,
      redis: 'none',
      l1: { ...zero, entries: this.cache.size, bytes: this.cache.size * 10, maxEntries: 1000, maxBytes: 1e6 },
      l2: { ...zero, errors: 0 },
      overall: zero,
      sets: 0,
      deletes: 0,
      evictions: 0,
      expirations: 0,
      invalidations: 0,
      loads: { count: 0, errors: 0, avg: 0, max: 0 },
      window: zero,
      namespaces: [...byNs].map(([namespace, entries]) => ({ namespace, entries, ...zero })),
      routes: [],
      hotKeys: [],
      warmers: [],
    };
  }

  /** Sends pending changes as one delta to every client (runs on the batch timer). */
  flush(): void {
    if (!this.changed.size && !this.alertsChanged && !this.cacheChanged && !this.findingsChanged) return;
    const delta: Delta = { time: Date.now() };
    if (this.changed.size) delta.endpoints = [...this.changed].filter((id) => this.routes.has(id)).map((id) => this.endpointStats(id));
    delta.system = this.system();
    if (this.alertsChanged) {
      delta.alerts = [...this.alerts];
      delta.alertHistory = [...this.history];
      delta.health = this.health();
    }
    if (this.cacheChanged) delta.cache = this.cacheStats();
    if (this.findingsChanged) delta.findings = [...this.findings];
    this.findingsChanged = false;
    this.changed.clear();
    this.alertsChanged = this.cacheChanged = false;
    this.seq++;
    for (const ws of this.sockets) this.send(ws, { type: 'delta', seq: this.seq, delta });
  }

  // ---------------------------------------------------------------- commands

  private async execute(command: CommandName, args: Record<string, unknown>): Promise<unknown> {
    switch (command) {
      case 'snapshot':
        return this.snapshot();
      case 'reset': {
        const endpoint = args.endpoint as string | undefined;
        if (endpoint !== undefined) {
          if (!this.routes.has(endpoint)) throw new ProtocolError('ERR_NOT_FOUND', `no endpoint ${endpoint}`);
          this.samples.delete(endpoint);
          this.changed.add(endpoint);
          return { reset: 1 };
        }
        const n = this.routes.size;
        for (const id of this.routes.keys()) this.changed.add(id);
        this.samples.clear();
        return { reset: n };
      }
      case 'thresholds.get':
        return this.thresholds;
      case 'thresholds.set': {
        const patch = args.thresholds as Partial<Thresholds>;
        this.thresholds = { ...this.thresholds, ...patch, slowMs: { ...this.thresholds.slowMs, ...(patch.slowMs ?? {}) } };
        this.alertsChanged = true;
        return this.thresholds;
      }
      case 'alerts.list':
        return { active: this.alerts, history: this.history };
      case 'alerts.resolve':
        return this.resolveAlert(args.id as string, 'manual');
      case 'cache.stats':
        return this.cacheStats();
      case 'cache.keys': {
        const re = args.pattern ? globToRegExp(args.pattern as string) : undefined;
        const limit = (args.limit as number | undefined) ?? 100;
        const keys: CacheKeyInfo[] = [...this.cache.values()]
          .filter((e) => !re || re.test(e.key))
          .slice(0, limit)
          .map((e) => ({ key: e.key, namespace: e.namespace, tier: 'l1', size: 10, tags: e.tags }));
        return { keys, cursor: null };
      }
      case 'cache.inspect': {
        const e = this.cache.get(args.key as string);
        if (!e) throw new ProtocolError('ERR_NOT_FOUND', 'no such key');
        return { key: e.key, value: '"value"', truncated: false, size: 7, tier: 'l1', tags: e.tags };
      }
      case 'cache.invalidate': {
        const dryRun = args.dryRun === true;
        let matches: string[];
        if (args.key !== undefined) matches = this.cache.has(args.key as string) ? [args.key as string] : [];
        else if (args.pattern !== undefined) {
          const re = globToRegExp(args.pattern as string);
          matches = [...this.cache.keys()].filter((k) => re.test(k));
        } else matches = [...this.cache.values()].filter((e) => e.tags.includes(args.tag as string)).map((e) => e.key);
        if (!dryRun) for (const k of matches) this.cache.delete(k);
        if (!dryRun && matches.length) this.cacheChanged = true;
        return { removed: matches.length, dryRun };
      }
      case 'cache.clearNamespace': {
        const dryRun = args.dryRun === true;
        const matches = [...this.cache.values()].filter((e) => e.namespace === args.namespace).map((e) => e.key);
        if (!dryRun) for (const k of matches) this.cache.delete(k);
        if (!dryRun && matches.length) this.cacheChanged = true;
        return { removed: matches.length, dryRun };
      }
      case 'history.get': {
        const answer = this.histories.get(args.endpoint as string);
        if (!answer) throw new ProtocolError('ERR_NOT_FOUND', `no history for ${String(args.endpoint)}`);
        const from = (args.from as number | undefined) ?? answer.from;
        const to = (args.to as number | undefined) ?? answer.to;
        const inRange = <T extends { t: number }>(xs: T[]) => xs.filter((x) => x.t >= from && x.t <= to);
        return { ...answer, from, to, resolution: (args.resolution as HistoryAnswer['resolution'] | undefined) ?? answer.resolution, points: inRange(answer.points), commits: inRange(answer.commits) };
      }
      case 'baseline.compare':
        return this.currentComparison();
      case 'baseline.set':
        this.baselineFile = args.file as string | undefined;
        return this.currentComparison();
      case 'traces.list': {
        const endpoint = args.endpoint as string;
        if (!this.routes.has(endpoint)) throw new ProtocolError('ERR_NOT_FOUND', `no endpoint ${endpoint}`);
        return { traces: (this.traces.get(endpoint) ?? []).slice(0, (args.limit as number | undefined) ?? 20) };
      }
      case 'endpoint.breakdown': {
        const endpoint = args.endpoint as string;
        const b = this.breakdowns.get(endpoint);
        if (!b) throw new ProtocolError(this.routes.has(endpoint) ? 'ERR_UNAVAILABLE' : 'ERR_NOT_FOUND', `no spans recorded for ${endpoint}`);
        return b;
      }
      case 'findings.list':
        return { findings: this.findings };
      case 'profile.start':
        return this.profile(args.endpoint as string, (args.seconds as number | undefined) ?? 10);
      case 'cache.warm':
      case 'rateLimit.resetKey':
      case 'rateLimit.setMax':
      case 'rateLimit.list':
      case 'measuring.set':
        throw new ProtocolError('ERR_UNAVAILABLE', `${command} is not implemented by the fake agent`);
      default: {
        const never: never = command;
        throw new ProtocolError('ERR_UNKNOWN_COMMAND', String(never));
      }
    }
  }

  private currentComparison(): BaselineComparison {
    if (!this.comparison) throw new ProtocolError('ERR_UNAVAILABLE', 'baselines are not recorded by this fake agent');
    return this.baselineFile === undefined ? structuredClone(this.comparison) : { ...structuredClone(this.comparison), source: 'file', name: this.baselineFile };
  }

  /** Records nothing, waits `seconds` (scaled by profileMsPerSecond) and writes a tiny valid `.cpuprofile`. */
  private async profile(endpoint: string, seconds: number): Promise<ProfileSummary> {
    if (!this.routes.has(endpoint)) throw new ProtocolError('ERR_NOT_FOUND', `no endpoint ${endpoint}`);
    if (this.profiling) throw new ProtocolError('ERR_UNAVAILABLE', `a profile of ${this.profiling} is already running; one at a time`);
    this.profiling = endpoint;
    try {
      await new Promise((r) => setTimeout(r, seconds * this.profileMsPerSecond));
      const file = join(this.profileDir, `routelens-${Date.now()}.cpuprofile`);
      const source = this.routes.get(endpoint)?.handlerLocation?.file ?? this.routes.get(endpoint)?.location?.file ?? join(this.cwd, 'server.js');
      writeFileSync(file, JSON.stringify(tinyCpuProfile(pathToFileURL(source).href)));
      return { endpoint, seconds, file, samples: 120, kept: 10, requests: 9, top: this.profileTop };
    } finally {
      this.profiling = undefined;
    }
  }

  /** Sends every client a fresh snapshot (what the agent does for a client that fell behind). */
  resync(): void {
    this.flush();
    for (const ws of this.sockets) this.send(ws, { type: 'snapshot', seq: this.seq, snapshot: this.snapshot() });
  }

  /** Sends a raw message to every client (tests of the client's input handling). */
  sendRaw(data: string): void {
    for (const ws of this.sockets) if (ws.readyState === WebSocket.OPEN) ws.send(data);
  }

  /** Skips delta sequence numbers (as if deltas were dropped for a slow client). */
  skipSeq(n: number): void {
    this.seq += n;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Closes every socket abruptly (like a crash), without touching the discovery file. */
  dropClients(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  private async close(): Promise<void> {
    if (this.batch) clearInterval(this.batch);
    this.batch = undefined;
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
    this.wss?.close();
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  /** Restarts like a process restart: new port, new token, discovery file rewritten; state kept. */
  async restart(): Promise<void> {
    await this.close();
    rmSync(this.discoveryFile, { force: true });
    this.silent = false;
    await this.listen();
  }

  /** Stops and removes the discovery file. */
  async stop(): Promise<void> {
    await this.close();
    rmSync(this.discoveryFile, { force: true });
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}

function summarize(s: Samples | undefined): LatencySummary {
  const d = [...(s?.durations ?? [])].sort((a, b) => a - b);
  const q = (p: number) => (d.length ? d[Math.min(d.length - 1, Math.ceil(p * d.length) - 1)] : 0);
  const sum = d.reduce((a, b) => a + b, 0);
  return {
    count: d.length,
    errors: s?.errors ?? 0,
    aborted: 0,
    min: d[0] ?? 0,
    avg: d.length ? sum / d.length : 0,
    max: d[d.length - 1] ?? 0,
    p50: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
  };
}

/** `*` any run, `?` one character; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const src = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${src}$`);
}
