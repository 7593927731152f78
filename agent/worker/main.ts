/**
 * The agent's worker thread: the back end (agent/backend.ts) fed by the ring
 * that the app's main thread writes, and by its messages (wire.ts). The app's
 * parts (cache, limiters, findings, measuring, process figures) are mirrored
 * here as the main thread reports them; their commands go back to it.
 */
import { writeFileSync } from 'node:fs';
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type AgentInfo, type CacheStats, type CommandName, type Finding, type RateLimitStats, type SystemStats, assertNever } from '../../protocol';
import { Backend, type FrontView } from '../backend';
import { EventBatch } from '../cache/stats';
import type { CommandSource, SlowQuerySummary } from '../internal';
import { Diagnostics, type Logger } from '../log';
import type { SystemSource } from '../metrics';
import { Revision } from '../revision';
import { RingReader } from './ring';
import { type Answer, type Call, type FromWorker, type FrontState, Requests, type ToWorker, type WorkerData, toWire } from './wire';

/**
 * Drain period while samples arrive, and once the app is idle (ms). A drain's own cost (a timer,
 * the port's messages, the clock) is paid per drain, not per sample: at 100 ms it is spread over
 * 200 samples at 2000 requests a second. Readers (a client's delta or snapshot, alerts) drain
 * first anyway, and the ring holds 80k requests a second's worth at this period.
 */
const BUSY_MS = 100;
const IDLE_MS = 250;
/** Empty drains after which the period goes from BUSY_MS to IDLE_MS (one second). */
const IDLE_AFTER = 10;
/**
 * How long a question from a client waits for the main thread to send what it recorded before
 * (ms): a main thread busy longer is not waited for (its figures then come with the next drain).
 */
const SYNC_LIMIT_MS = 250;
/** Cache events the mirror keeps for the editor's readers. */
const CACHE_EVENTS_KEPT = 1000;

/** This thread's name where the system shows thread names (`top -H`, `ps -T`, /proc): the agent's CPU apart from the app's. */
const THREAD_NAME = 'routelens';

/** Names this thread (Linux: a thread may rename itself through /proc/thread-self); elsewhere, or when refused, nothing. */
function nameThread(): void {
  try {
    writeFileSync('/proc/thread-self/comm', THREAD_NAME);
  } catch {
    // Not Linux, or /proc not mounted: the name is only a convenience.
  }
}
nameThread();

const port = parentPort as MessagePort;
const data = workerData as WorkerData & { calls: MessagePort };
const post = (m: FromWorker): void => port.postMessage(m);

/** The main thread's process figures (its event loop, its heap), as it last sampled them. */
class SystemMirror implements SystemSource {
  samples = 1;

  constructor(private last: NonNullable<FrontState['system']>) {}

  update(sample: NonNullable<FrontState['system']>): void {
    this.last = sample;
    this.samples++;
  }

  stats(time: number, requestsPerSecond: number, errorRate: number): SystemStats {
    return { ...this.last, requestsPerSecond, errorRate, time };
  }

  sample(): void {}

  close(): void {}
}

/** The app's parts, as the main thread last reported them. */
class FrontMirror implements FrontView {
  cache: FrontView['cache'];
  rateLimits: FrontView['rateLimits'];
  findings: FrontView['findings'];
  readonly system: SystemMirror;
  private infoValue: AgentInfo;
  private cacheStats: CacheStats | undefined;
  private readonly cacheRevision = new Revision();
  private readonly cacheEvents = new EventBatch(CACHE_EVENTS_KEPT);
  private limits: RateLimitStats[] = [];
  private readonly limitsRevision = new Revision();
  private findingsList: Finding[] = [];
  private readonly findingsRevision = new Revision();
  private slow: SlowQuerySummary[] = [];
  private pausedValue = false;
  private readonly requests = new Requests();

  constructor(initial: FrontState) {
    this.infoValue = initial.info!;
    this.cacheStats = initial.cache ?? undefined;
    this.cache = initial.cache ? { stats: () => this.cacheStats!, revision: () => this.cacheRevision.value(), readEvents: (cursor) => this.cacheEvents.read(cursor) } : undefined;
    this.rateLimits = { list: () => this.limits, revision: () => this.limitsRevision.value() };
    this.findings = initial.findings ? { list: () => this.findingsList, revision: () => this.findingsRevision.value(), slowQueries: () => this.slow } : undefined;
    this.system = new SystemMirror(initial.system!);
    this.update(initial);
  }

  info(): AgentInfo {
    return this.infoValue;
  }

  paused(): boolean {
    return this.pausedValue;
  }

  execute(command: CommandName, args: unknown, source: CommandSource): Promise<unknown> {
    const { id, result } = this.requests.open();
    post({ t: 'command', id, command, args, source });
    return result;
  }

  /** One round trip to the main thread, at most SYNC_LIMIT_MS: what it recorded before is then here. */
  sync(): Promise<void> {
    const { id, result } = this.requests.open();
    post({ t: 'sync', id });
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, SYNC_LIMIT_MS);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      result.then(done, done);
    });
  }

  settle(m: Extract<ToWorker, { t: 'result' }>): void {
    this.requests.settle(m);
  }

  update(s: FrontState): void {
    if (s.info) this.infoValue = s.info;
    if (s.cache) {
      this.cacheStats = s.cache;
      this.cacheRevision.mark();
    }
    if (s.cacheEvents) {
      for (const event of s.cacheEvents.events) if (this.cacheEvents.room()) this.cacheEvents.events.push(event);
      this.cacheEvents.dropped += s.cacheEvents.dropped;
    }
    if (s.rateLimits) {
      this.limits = s.rateLimits;
      this.limitsRevision.mark();
    }
    if (s.findings) {
      this.findingsList = s.findings;
      this.findingsRevision.mark();
      // The app's findings start after its back end: they appear with their first report.
      this.findings ??= { list: () => this.findingsList, revision: () => this.findingsRevision.value(), slowQueries: () => this.slow };
    }
    if (s.slowQueries) this.slow = s.slowQueries;
    if (s.paused !== undefined) this.pausedValue = s.paused;
    if (s.system) this.system.update(s.system);
  }
}

const logger: Logger | undefined = data.hasLogger
  ? { warn: (line) => post({ t: 'log', level: 'warn', line }), error: (line) => post({ t: 'log', level: 'error', line }), info: (line) => post({ t: 'log', level: 'info', line }) }
  : undefined;
const diag = new Diagnostics(logger, (line) => post({ t: 'log', level: 'stderr', line }));
const front = new FrontMirror(data.front);
const ring = new RingReader(data.ring);
const callFlag = new Int32Array(data.callFlag);
let now = Date.now();
let closing = false;

/** Every message the main thread posted so far, then every sample in the ring: registrations come before their samples. */
function pull(): number {
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) handle(m.message as ToWorker);
  now = Date.now();
  return ring.drain(ingest);
}

const backend = new Backend(data.options, front, diag, { system: front.system, pull: () => void pull(), onRemoved: (id) => post({ t: 'removed', ids: [id] }) });
const metrics = backend.metrics;
const ingest = (index: number, duration: number, status: number, flags: number): void => metrics.ingest(index, duration, status, flags, now);

function handle(m: ToWorker): void {
  try {
    switch (m.t) {
      case 'register':
        metrics.registerRoute(m.def);
        return;
      case 'bind':
        metrics.bind(m.index, m.method, m.route);
        return;
      case 'bindCustom':
        metrics.bindCustom(m.index, m.name);
        return;
      case 'slow':
        metrics.ingestSlow(m.sample, m.index, m.duration, m.status);
        return;
      case 'path':
        backend.history?.addPath(m.id, m.url, m.start);
        return;
      case 'slowEntry':
        metrics.recordSlowEntry(m.entry);
        return;
      case 'front':
        front.update(m.state);
        return;
      case 'traced':
        for (const request of m.requests) backend.spans?.keep(request);
        return;
      case 'execute':
        // Not inside a read that pulled this message: commands read the metrics themselves.
        setImmediate(() => void execute(m.id, m.command, m.args, m.source));
        return;
      case 'result':
        front.settle(m);
        return;
      case 'close':
        setImmediate(() => void close());
        return;
      default:
        assertNever(m, 'message');
    }
  } catch (err) {
    diag.failure('worker.message', err);
  }
}

async function execute(id: number, command: CommandName, args: unknown, source: CommandSource): Promise<void> {
  try {
    const value = await backend.execute(command, args as never, source);
    judge(); // before the result: the app's thread has the new thresholds when its promise settles
    post({ t: 'result', id, ok: true, value });
  } catch (err) {
    post({ t: 'result', id, ok: false, error: toWire(err) });
  }
}

/** The main thread's synchronous questions. */
data.calls.on('message', (q: Call) => {
  let value: unknown;
  try {
    pull(); // what the main thread told before asking (its parts' figures among them)
    value = q.kind === 'snapshot' ? backend.snapshot() : metrics.endpoint(q.id);
  } catch (err) {
    diag.failure('worker.call', err);
  }
  data.calls.postMessage({ seq: q.seq, value } satisfies Answer);
  Atomics.store(callFlag, 0, 1);
  Atomics.notify(callFlag, 0);
});

port.on('message', (m: ToWorker) => handle(m));

// Alerts: what the main thread's health endpoint, findings and slow-request cut read.
let judgedAlerts = -1;
let judgedThresholds = '';
/** Tells the main thread the alerts and thresholds when they moved; true when it did. */
function judge(): boolean {
  const revision = backend.alerts.revision();
  const thresholds = backend.alerts.thresholds();
  const key = JSON.stringify(thresholds);
  if (revision === judgedAlerts && key === judgedThresholds) return false;
  judgedAlerts = revision;
  judgedThresholds = key;
  post({ t: 'judged', thresholds, health: backend.alerts.health(), firing: backend.alerts.active() });
  return true;
}
backend.alerts.onFire((alert) => post({ t: 'alert', alert }));
backend.onEvaluated(judge);
// A command that moved them (thresholds.set, alerts.resolve) is answered once the main thread has them.
backend.onCommandDone(() => (judge() ? front.sync() : Promise.resolve()));

// The drain: every BUSY_MS while samples arrive, every IDLE_MS once they stop.
let empty = 0;
let drainTimer: NodeJS.Timeout | undefined;
function retime(busy: boolean): void {
  clearInterval(drainTimer);
  drainTimer = setInterval(tick, busy ? BUSY_MS : IDLE_MS);
}
function tick(): void {
  const n = pull();
  if (n > 0) {
    if (empty >= IDLE_AFTER) retime(true);
    empty = 0;
  } else if (++empty === IDLE_AFTER) retime(false);
}
retime(true);

void backend.listen().then((address) => post({ t: 'listening', address }));

async function close(): Promise<void> {
  if (closing) return;
  closing = true;
  clearInterval(drainTimer);
  pull();
  await backend.close();
  port.close();
  data.calls.close();
}
