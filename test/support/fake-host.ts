/**
 * A fake AgentHost for the local server's tests that need what a real agent
 * does not do on demand: commands that hang or throw, a snapshot that throws,
 * deltas handed out at will (and counted), figures chosen by the test. Plausible
 * snapshots and a few working commands besides. Tests of what the API answers
 * for real figures run against a real agent instead (startAgentApp in
 * test/integration/server/helpers.ts).
 */
import { type Alert, type CommandName, type Delta, type EndpointStats, type LatencySummary, PROTOCOL_VERSION, ProtocolError, type Snapshot, type Thresholds, assertNever } from '../../protocol';
import type { AgentHost, CommandSource } from '../../agent/internal';

export function latency(count: number, p95: number): LatencySummary {
  return { count, errors: Math.floor(count / 10), aborted: 0, min: p95 / 4, avg: p95 / 2, max: p95 * 2, p50: p95 / 2, p95, p99: p95 * 1.5 };
}

export function endpoint(method: string, route: string, count: number, p95: number): EndpointStats {
  const l = latency(count, p95);
  return {
    id: `${method} ${route}`,
    method,
    route,
    kind: 'route',
    ...l,
    statusCodes: { '2xx': count },
    windows: { '1m': latency(Math.ceil(count / 4), p95 * 2), '5m': latency(Math.ceil(count / 2), p95), all: l },
    rate: count / 60,
    lastSeen: 1_700_000_000_000,
  };
}

export const THRESHOLDS: Thresholds = {
  p95Ms: 500,
  errorRate: 0.05,
  heapPercent: 0.9,
  eventLoopDelayMs: 100,
  cacheHitRate: 0.5,
  rateLimitedShare: 0.2,
  anomalyFactor: 3,
  avgMs: 1000,
  slowPerMinute: 10,
  slowMs: { info: 200, warning: 500, critical: 1000 },
  slowQueryMs: 1000, cpuPercent: 90, errorSpikeFactor: 3, memoryGrowthFactor: 1.5,
};

export interface ExecuteCall {
  command: CommandName;
  args: unknown;
  source: CommandSource;
}

export class FakeHost implements AgentHost {
  endpoints: EndpointStats[] = [endpoint('GET', '/users/:id', 120, 40), endpoint('POST', '/orders', 30, 250), endpoint('GET', '/health', 900, 2)];
  thresholds: Thresholds = { ...THRESHOLDS, slowMs: { ...THRESHOLDS.slowMs } };
  alerts: Alert[] = [
    { id: 'a1', rule: 'route-p95', target: 'POST /orders', severity: 'warning', state: 'firing', message: 'p95 250 ms', value: 250, threshold: 200, firedAt: 1_700_000_000_000 },
  ];
  history: Alert[] = [];
  /** Deltas handed out by takeDelta, in order; then undefined. */
  deltas: Delta[] = [];
  /** When set, takeDelta returns this every time (flood tests). */
  deltaFactory: (() => Delta | undefined) | undefined;
  takeDeltaCalls = 0;
  snapshotCalls = 0;
  calls: ExecuteCall[] = [];
  /** Commands in this set never settle. */
  hang = new Set<CommandName>();
  /** Commands in this map throw the value. */
  fail = new Map<CommandName, unknown>();
  cacheEnabled = true;
  extra: Partial<Snapshot> = {};

  info() {
    return { name: 'fake', pid: process.pid, version: '0.0.0-test', protocolVersion: PROTOCOL_VERSION, cwd: process.cwd(), startedAt: 1_700_000_000_000, features: ['cache', 'rateLimit'] };
  }

  sketches(): Array<{ id: string; count: number; sketch: string }> {
    return this.endpoints.map((e) => ({ id: e.id, count: e.count, sketch: '' }));
  }

  snapshot(): Snapshot {
    this.snapshotCalls++;
    return {
      protocolVersion: PROTOCOL_VERSION,
      agent: this.info(),
      time: Date.now(),
      endpoints: this.endpoints,
      system: {
        pid: process.pid,
        nodeVersion: process.version,
        uptime: 12,
        rss: 80e6,
        heapUsed: 30e6,
        heapTotal: 50e6,
        heapLimit: 2e9,
        external: 1e6,
        cpuPercent: 3,
        eventLoop: { delayP50: 1, delayP99: 4, delayMax: 9, utilization: 0.1 },
        gc: { count: 3, pauseTotal: 5, pauseMax: 2 },
        requestsPerSecond: 17,
        errorRate: 0.01,
        time: Date.now(),
      },
      alerts: this.alerts,
      alertHistory: this.history,
      thresholds: this.thresholds,
      health: { score: 90, status: 'healthy', reasons: [] },
      slowRequests: [],
      rateLimits: [
        {
          name: 'api',
          algorithm: 'fixed-window',
          windowMs: 60_000,
          max: 100,
          store: 'memory',
          onStoreError: 'fail-open',
          allowed: 50,
          limited: 2,
          storeErrors: 0,
          window: { allowed: 10, limited: 1 },
          routes: [],
          topKeys: [],
        },
      ],
      droppedEndpoints: 0,
      ...this.extra,
    };
  }

  openFeed(): () => Delta | undefined {
    return () => this.takeDelta();
  }

  /** What the feed reader returns at each read. */
  takeDelta(): Delta | undefined {
    this.takeDeltaCalls++;
    if (this.deltaFactory) return this.deltaFactory();
    return this.deltas.shift();
  }

  async execute(command: CommandName, args: unknown, source: CommandSource): Promise<unknown> {
    this.calls.push({ command, args, source });
    if (this.hang.has(command)) return new Promise(() => {});
    if (this.fail.has(command)) throw this.fail.get(command);
    const a = args as Record<string, unknown>;
    switch (command) {
      case 'snapshot':
        return this.snapshot();
      case 'reset':
        return { reset: a.endpoint ? 1 : this.endpoints.length };
      case 'thresholds.get':
        return this.thresholds;
      case 'thresholds.set':
        this.thresholds = { ...this.thresholds, ...(a.thresholds as Partial<Thresholds>) } as Thresholds;
        return this.thresholds;
      case 'alerts.list':
        return { active: this.alerts, history: this.history };
      case 'alerts.resolve': {
        const alert = this.alerts.find((x) => x.id === a.id);
        if (!alert) throw new ProtocolError('ERR_NOT_FOUND', `no firing alert ${String(a.id)}`);
        this.alerts = this.alerts.filter((x) => x !== alert);
        const resolved: Alert = { ...alert, state: 'resolved', resolvedAt: Date.now(), resolvedBy: 'manual' };
        this.history.unshift(resolved);
        return resolved;
      }
      case 'cache.stats':
      case 'cache.keys':
      case 'cache.invalidate':
      case 'cache.clearNamespace':
        if (!this.cacheEnabled) throw new ProtocolError('ERR_UNAVAILABLE', 'no cache in this agent');
        if (command === 'cache.keys') return { keys: [{ key: 'user:1', namespace: 'users', tier: 'l1', size: 12 }], cursor: null };
        if (command === 'cache.stats') return { enabled: true };
        return { removed: 3, dryRun: a.dryRun === true };
      case 'rateLimit.list':
        return this.snapshot().rateLimits;
      case 'cache.inspect':
      case 'cache.warm':
      case 'measuring.set':
      case 'rateLimit.resetKey':
      case 'rateLimit.setMax':
      case 'traces.list':
      case 'endpoint.breakdown':
      case 'findings.list':
      case 'profile.start':
      case 'history.get':
      case 'baseline.compare':
      case 'baseline.set':
        throw new ProtocolError('ERR_UNAVAILABLE', `${command} not in the fake host`);
      default:
        return assertNever(command, 'command');
    }
  }
}
