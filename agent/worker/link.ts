/**
 * The app's main thread's end of the agent's worker: starts it, records
 * requests into the shared ring, and keeps it told of what lives here.
 *
 * The request path (FrontRecorder.record) resolves the endpoint in a registry
 * of light references (the same steps as the worker's metrics take, so both
 * sides agree on every endpoint, the overflow bucket included), writes one
 * record into the ring and returns. A message is posted only for what is rare:
 * an endpoint's first sample, a slow request, a sampled path.
 *
 * agent.snapshot() and agent.stats() stay synchronous: the main thread asks
 * the worker and waits on a shared flag (Atomics.wait) for its answer. The
 * editor's connection never does this: it talks to the worker's server, so
 * the editor cannot block the app's event loop.
 *
 * If the worker cannot start or dies, the app keeps serving: the failure is
 * logged, and the back end starts again in this thread (fresh figures).
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { type Alert, type CommandArgs, type CommandName, type CommandResults, type EndpointKind, type EndpointStats, type HealthReport, type SlowRequest, type Snapshot, type SourceLocation, type Thresholds, assertNever } from '../../protocol';
import type { BackendOptions, BackLink, FrontView, LocalBack, MetricsSources, ServerAddress } from '../backend';
import type { CommandSource, Metrics, RequestSample, RouteDefinition } from '../internal';
import type { Diagnostics } from '../log';
import { F_ERROR, MAX_PATH_EVERY, clampDuration, flagsOf, statusOf } from '../metrics/sample';
import { HEALTHY } from '../alerts/thresholds';
import { EndpointRegistry, type RegistryEntry, endpointId } from '../metrics/registry';
import { PATHS_PER_ROUTE, replayable } from '../history/paths';
import { SystemSampler } from '../metrics/system';
import { type DiscoveryHandle, advertise } from '../server/discovery';
import type { TraceKeeper, TracedRequest } from '../spans/keep';
import { type RingMemory, RingWriter, allocateRing } from './ring';
import { type Answer, type FromWorker, type FrontState, Requests, type SlowSample, type ToWorker, type WorkerData, toWire } from './wire';

/** How long agent.snapshot()/stats() wait for the worker before answering without it (ms). */
const CALL_TIMEOUT_MS = 5000;
/** The timer looks at the slow-moving parts of the front (FrontTracker.changes) once in this many pushes. */
const SLOW_EVERY = 4;

/** Starts the back end in a worker thread; undefined (said in the log) when the worker cannot start. */
export function startWorkerBack(options: BackendOptions, front: FrontView, diag: Diagnostics): BackLink | undefined {
  const file = workerFile();
  if (file === undefined) {
    diag.failure('worker', new Error('the worker file is missing (a bundler left it out?): the agent runs in the main thread'));
    return undefined;
  }
  try {
    return new WorkerBack(file, options, front, diag);
  } catch (err) {
    diag.failure('worker', err);
    return undefined;
  }
}

/**
 * The back end in this thread: when the worker is off, cannot start or died. Its modules (the
 * metrics' windows and sketches, history, alerts, the server) are loaded here only then, so that
 * an app whose back end runs in the worker holds none of their functions, nor @datadog/sketches-js
 * (in the bundle, esbuild wraps them to run at this first require).
 */
export function inlineBack(options: BackendOptions, front: FrontView, diag: Diagnostics, sources?: MetricsSources): LocalBack {
  const { Backend, LocalBack: Local } = require('../backend') as typeof import('../backend');
  return new Local(new Backend(options, front, diag, sources));
}

/** The built worker beside the bundle (dist/agent/worker.js), or its source when run from source. */
function workerFile(): string | undefined {
  for (const candidate of [join(__dirname, 'worker.js'), join(__dirname, 'main.ts')]) if (existsSync(candidate)) return candidate;
  return undefined;
}

/** EndpointRef.bits: the flags and counts the request path does not read. */
const REGISTERED = 1;
const REMOVED = 2;
const KIND_SHIFT = 2;
const KINDS: readonly EndpointKind[] = ['route', 'unmatched', 'overflow', 'custom'];
const SENT_SHIFT = 4;
const SENT_MASK = 0xf; // PATHS_PER_ROUTE (8) fits
const EVERY_SHIFT = 8; // pathEvery, up to MAX_PATH_EVERY (256), above it

/**
 * What the main thread keeps of an endpoint: where its samples go, and the path sampling's state.
 * One per endpoint, so it is kept small: what the request path does not read (two flags, the kind,
 * two path counts) in one small integer, and the id made from the method and route when asked.
 */
class EndpointRef implements RegistryEntry {
  location: SourceLocation | undefined;
  handlerLocation: SourceLocation | undefined;
  /** The worker was told which endpoint `index` is. */
  bound = false;
  readonly replayable: boolean;
  pathCountdown = 1;
  /** The hash of the last path sent: a small integer, where a list of sent paths would hold an array per route. */
  lastPath = 0;
  private bits: number;

  constructor(
    readonly index: number,
    readonly method: string,
    readonly route: string,
    kind: EndpointKind,
  ) {
    this.replayable = kind === 'route' && replayable(method, route);
    this.bits = (KINDS.indexOf(kind) << KIND_SHIFT) | (1 << EVERY_SHIFT);
  }

  get id(): string {
    return endpointId(this.method, this.route);
  }
  get kind(): EndpointKind {
    return KINDS[(this.bits >> KIND_SHIFT) & 3]!;
  }
  get registered(): boolean {
    return (this.bits & REGISTERED) !== 0;
  }
  set registered(on: boolean) {
    this.bits = on ? this.bits | REGISTERED : this.bits & ~REGISTERED;
  }
  get removed(): boolean {
    return (this.bits & REMOVED) !== 0;
  }
  set removed(on: boolean) {
    this.bits = on ? this.bits | REMOVED : this.bits & ~REMOVED;
  }
  /** How many paths were sent (up to PATHS_PER_ROUTE). */
  get pathsSent(): number {
    return (this.bits >> SENT_SHIFT) & SENT_MASK;
  }
  set pathsSent(n: number) {
    this.bits = (this.bits & ~(SENT_MASK << SENT_SHIFT)) | (n << SENT_SHIFT);
  }
  /** A path is taken once in this many answers. */
  get pathEvery(): number {
    return this.bits >> EVERY_SHIFT;
  }
  set pathEvery(n: number) {
    this.bits = (this.bits & ((1 << EVERY_SHIFT) - 1)) | (n << EVERY_SHIFT);
  }
}

/** The request path's recorder with the worker: the ring for samples, a message for what is rare (exported for its allocation guard). */
export class FrontRecorder {
  readonly registry: EndpointRegistry<EndpointRef>;
  /** `slowMs.info`: a sample at or over it also goes as a slow request. */
  slowFromMs: number;
  private nextIndex = 0;
  private target: Pick<Metrics, 'registerRoute' | 'record' | 'recordCustom'> | undefined;

  constructor(
    private readonly ring: RingWriter,
    private readonly post: (m: ToWorker) => void,
    private readonly diag: Diagnostics,
    maxEndpoints: number,
    slowFromMs: number,
    private readonly history: boolean,
  ) {
    this.slowFromMs = slowFromMs;
    const hooks = { create: (_id: string, method: string, route: string, kind: EndpointKind) => new EndpointRef(this.nextIndex++, method, route, kind), touch() {}, remove() {} };
    // No index by id: an id is read as its method and route (registry.get), so no id string is kept per endpoint.
    this.registry = new EndpointRegistry(maxEndpoints, hooks, diag, Date.now(), false);
  }

  /** From now on, everything goes to `target` (the back end in this thread, after the worker stopped). */
  redirect(target: Pick<Metrics, 'registerRoute' | 'record' | 'recordCustom'>): void {
    this.target = target;
    // In the order they were made, as the worker had them (the registry here lists them method by method).
    for (const ref of [...this.registry.values()].sort((a, b) => a.index - b.index)) {
      if (ref.registered) target.registerRoute({ method: ref.method, route: ref.route, location: ref.location, handlerLocation: ref.handlerLocation });
    }
  }

  registerRoute(def: RouteDefinition): void {
    if (this.target) return this.target.registerRoute(def);
    try {
      this.registry.register(def);
      this.post({ t: 'register', def: { method: def.method, route: def.route, location: def.location, handlerLocation: def.handlerLocation } });
    } catch (err) {
      this.diag.failure('metrics.registerRoute', err);
    }
  }

  record(sample: RequestSample): void {
    if (this.target) return this.target.record(sample);
    try {
      const ref = this.registry.forRequest(sample.method, sample.route);
      if (!ref.bound) {
        ref.bound = true;
        this.post({ t: 'bind', index: ref.index, method: String(sample.method), route: typeof sample.route === 'string' ? sample.route : undefined });
      }
      const duration = clampDuration(sample.duration);
      const status = statusOf(sample);
      this.ring.push(ref.index, duration, status, flagsOf(sample, status));
      if (ref.replayable && status >= 200 && status < 400 && this.history && --ref.pathCountdown <= 0) this.takePath(ref, sample);
      if (duration >= this.slowFromMs) this.post({ t: 'slow', index: ref.index, sample: slowSample(sample), duration, status });
    } catch (err) {
      this.diag.failure('metrics.record', err);
    }
  }

  recordCustom(name: string, duration: number, error: boolean): void {
    if (this.target) return this.target.recordCustom(name, duration, error);
    try {
      const ref = this.registry.forCustom(typeof name === 'string' ? name : String(name));
      if (!ref.bound) {
        ref.bound = true;
        this.post({ t: 'bindCustom', index: ref.index, name: String(name) });
      }
      this.ring.push(ref.index, clampDuration(duration), 0, error === true ? F_ERROR : 0);
    } catch (err) {
      this.diag.failure('metrics.record', err);
    }
  }

  /** Endpoints a reset removed in the worker leave here too. */
  removed(ids: string[]): void {
    for (const id of ids) {
      const ref = this.registry.get(id);
      if (ref !== undefined) this.registry.remove(ref);
    }
  }

  /**
   * A sampled answer's path, sent unless it is the route's last one sent (the worker keeps the
   * distinct ones, agent/history/paths.ts). As with the history's own paths, sampling stays dense
   * only while each sampled path is new and the route has sent fewer than PATHS_PER_ROUTE: then it
   * backs off, however new the next URLs are (a route whose every request has a new id would
   * otherwise send a message per request).
   */
  private takePath(ref: EndpointRef, sample: RequestSample): void {
    const url = sample.url;
    const hash = hashOf(url);
    let dense = false;
    if (ref.pathsSent === 0 || hash !== ref.lastPath) {
      this.post({ t: 'path', id: ref.id, url, start: sample.start });
      ref.lastPath = hash;
      if (ref.pathsSent < PATHS_PER_ROUTE) dense = ++ref.pathsSent < PATHS_PER_ROUTE;
    }
    if (!dense) ref.pathEvery = Math.min(ref.pathEvery * 2, MAX_PATH_EVERY);
    ref.pathCountdown = ref.pathEvery;
  }
}

/** FNV-1a over the UTF-16 units: two paths alike by it are rare, and the cost is one path not sent. */
function hashOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0; // a small integer: no heap number
}

function slowSample(s: RequestSample): SlowSample {
  return { method: String(s.method), route: s.route, status: s.status, duration: s.duration, aborted: s.aborted, threw: s.threw, url: s.url, requestId: s.requestId, start: s.start };
}

/** Traced requests waiting for the next push; past MAX_TRACED_WAITING a push goes at once. */
const MAX_TRACED_WAITING = 256;

/** The back end in the worker, as the main thread sees it. */
class WorkerBack implements BackLink {
  readonly recorder: FrontRecorder;
  readonly traces: TraceKeeper | undefined;
  private traced: TracedRequest[] = [];
  private readonly worker: Worker;
  private readonly ring: RingWriter;
  private readonly memory: RingMemory;
  private readonly callFlag = new Int32Array(new SharedArrayBuffer(4));
  private readonly calls: MessageChannel;
  private callSeq = 0;
  private readonly requests = new Requests();
  private readonly sampler: SystemSampler;
  private readonly pushTimer: NodeJS.Timeout;
  private readonly front: FrontTracker;
  private judged: { thresholds: Thresholds; health: HealthReport; firing: Alert[] };
  private readonly alertListeners: Array<(alert: Alert) => void> = [];
  private listening: ((address: ServerAddress | undefined) => void) | undefined;
  private address: ServerAddress | undefined;
  /** The discovery file: written here, where the process's exit and signals are heard, once the worker's server listens. */
  private discovery: DiscoveryHandle | undefined;
  private closing = false;
  /** Set when the worker stopped without being asked: the back end then runs in this thread. */
  private fallback: LocalBack | undefined;

  constructor(
    file: string,
    private readonly options: BackendOptions,
    private readonly view: FrontView,
    private readonly diag: Diagnostics,
  ) {
    this.memory = allocateRing();
    this.ring = new RingWriter(this.memory);
    this.sampler = new SystemSampler(diag, options.systemMs);
    this.front = new FrontTracker(view, this.sampler);
    this.judged = { thresholds: options.thresholds, health: { ...HEALTHY, reasons: [] }, firing: [] };
    this.calls = new MessageChannel();
    // The worker's server writes no discovery file: a worker hears neither the process's signals nor its exit.
    const workerOptions: BackendOptions = { ...options, server: options.server && { ...options.server, discoveryDir: false } };
    const data: WorkerData = { options: workerOptions, ring: this.memory, callFlag: this.callFlag.buffer as SharedArrayBuffer, hasLogger: diag.hasLogger, front: this.front.full() };
    // From source (the tests, under tsx): a .ts entry is loaded by require, which tsx's hooks compile.
    const fromSource = file.endsWith('.ts');
    this.worker = new Worker(fromSource ? `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});` : file, {
      eval: fromSource,
      workerData: { ...data, calls: this.calls.port2 },
      transferList: [this.calls.port2],
      // None of the app's flags: its preloads (routelens/register among them) are not the worker's, and a
      // worker refuses V8 flags such as --max-old-space-size or --expose-gc.
      execArgv: [],
      name: 'routelens-agent',
    });
    this.worker.unref();
    this.calls.port1.unref();
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (err) => this.diag.failure('worker', err));
    this.worker.on('exit', (code) => this.onExit(code));
    this.recorder = new FrontRecorder(this.ring, (m) => this.post(m), diag, options.maxEndpoints, options.thresholds.slowMs.info, options.history !== false);
    // Traced requests go to the worker's keeper in batches, with the pushes (or to the fallback's).
    this.traces = options.spans === false ? undefined : { keep: (request) => this.keepTraced(request) };
    this.pushTimer = setInterval(() => this.push(false), options.server ? options.server.batchMs : 250);
    this.pushTimer.unref();
  }

  snapshot(): Snapshot {
    if (this.fallback) return this.fallback.snapshot();
    return (this.call({ seq: 0, kind: 'snapshot' }) as Snapshot | undefined) ?? this.emptySnapshot();
  }

  endpoint(id: string): EndpointStats | undefined {
    if (this.fallback) return this.fallback.endpoint(id);
    return this.call({ seq: 0, kind: 'endpoint', id }) as EndpointStats | undefined;
  }

  describe(id: string): Pick<EndpointStats, 'kind' | 'location' | 'handlerLocation'> | undefined {
    if (this.fallback) return this.fallback.describe(id);
    const ref = this.recorder.registry.get(id);
    return ref && { kind: ref.kind, location: ref.location, handlerLocation: ref.handlerLocation };
  }

  execute<C extends CommandName>(command: C, args: CommandArgs<C>, source: CommandSource): Promise<CommandResults[C]> {
    if (this.fallback) return this.fallback.execute(command, args, source);
    this.push();
    const { id, result } = this.requests.open();
    this.post({ t: 'execute', id, command, args, source });
    return result as Promise<CommandResults[C]>;
  }

  thresholds(): Thresholds {
    return this.fallback?.thresholds() ?? this.judged.thresholds;
  }

  health(): HealthReport {
    return this.fallback?.health() ?? this.judged.health;
  }

  firing(): Alert[] {
    return this.fallback?.firing() ?? this.judged.firing;
  }

  recordSlowEntry(entry: SlowRequest): void {
    if (this.fallback) this.fallback.recordSlowEntry(entry);
    else this.post({ t: 'slowEntry', entry });
  }

  onAlert(listener: (alert: Alert) => void): void {
    this.alertListeners.push(listener);
  }

  listen(): Promise<ServerAddress | undefined> {
    if (this.options.server === false) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.listening = resolve));
  }

  get port(): number | undefined {
    return this.fallback ? this.fallback.port : this.address?.port;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.pushTimer);
    this.sampler.close();
    this.discovery?.remove();
    if (this.fallback) return this.fallback.close();
    this.ring.flush();
    const closed = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ t: 'close' } satisfies ToWorker);
    const timer = setTimeout(() => void this.worker.terminate(), 10_000);
    await closed;
    clearTimeout(timer);
    this.calls.port1.close();
  }

  // ---------------------------------------------------------------- internals

  private post(m: ToWorker): void {
    if (this.fallback || this.closing) return;
    this.worker.postMessage(m);
  }

  private keepTraced(request: TracedRequest): void {
    if (this.fallback) {
      this.fallback.traces?.keep(request);
      return;
    }
    this.traced.push(request);
    if (this.traced.length >= MAX_TRACED_WAITING) this.push(false);
  }

  /** Tells the worker what changed in this thread's parts (`all`: the slow-moving ones too, see FrontTracker). */
  private push(all = true): void {
    if (this.fallback) return;
    try {
      this.ring.flush();
      if (this.traced.length > 0) {
        this.post({ t: 'traced', requests: this.traced });
        this.traced = [];
      }
      const state = this.front.changes(all);
      if (state !== undefined) this.post({ t: 'front', state });
    } catch (err) {
      this.diag.failure('worker.push', err);
    }
  }

  /** Asks the worker and waits for its answer; undefined when it does not answer in time. */
  private call(question: { seq: number } & ({ kind: 'snapshot' } | { kind: 'endpoint'; id: string })): unknown {
    if (this.closing) return undefined;
    this.push();
    const seq = ++this.callSeq;
    Atomics.store(this.callFlag, 0, 0);
    this.calls.port1.postMessage({ ...question, seq });
    const deadline = Date.now() + CALL_TIMEOUT_MS;
    for (;;) {
      const answer = receiveMessageOnPort(this.calls.port1)?.message as Answer | undefined;
      if (answer !== undefined) {
        if (answer.seq === seq) return answer.value;
        continue; // a late answer to a question that timed out
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.fallback) break;
      Atomics.wait(this.callFlag, 0, 0, left);
      Atomics.store(this.callFlag, 0, 0);
    }
    this.diag.failure('worker.call', new Error(`the agent's worker did not answer within ${CALL_TIMEOUT_MS} ms`));
    return undefined;
  }

  private onMessage(m: FromWorker): void {
    try {
      switch (m.t) {
        case 'log':
          this.diag.relay(m.level, m.line);
          return;
        case 'alert':
          for (const l of this.alertListeners) l(m.alert);
          return;
        case 'judged':
          this.judged = { thresholds: m.thresholds, health: m.health, firing: m.firing };
          this.recorder.slowFromMs = m.thresholds.slowMs.info;
          return;
        case 'removed':
          this.recorder.removed(m.ids);
          return;
        case 'listening':
          this.address = m.address && this.advertise(m.address);
          this.listening?.(this.address);
          this.listening = undefined;
          return;
        case 'sync':
          // Reached in the event loop: every response that finished before is in the ring.
          this.push();
          this.post({ t: 'result', id: m.id, ok: true, value: null });
          return;
        case 'command':
          void this.runFront(m.id, m.command, m.args, m.source);
          return;
        case 'result':
          this.requests.settle(m);
          return;
        default:
          assertNever(m, 'message');
      }
    } catch (err) {
      this.diag.failure('worker.message', err);
    }
  }

  /** A command of this thread's parts, asked for by the worker's server. */
  private async runFront(id: number, command: CommandName, args: unknown, source: CommandSource): Promise<void> {
    try {
      const value = await this.view.execute(command, args, source);
      this.push();
      this.post({ t: 'result', id, ok: true, value });
    } catch (err) {
      this.post({ t: 'result', id, ok: false, error: toWire(err) });
    }
  }

  private advertise(address: ServerAddress): ServerAddress {
    const s = this.options.server;
    if (s === false || s.discoveryDir === false) return address;
    this.discovery = advertise(s.discoveryDir, { ...address, name: this.options.name, version: this.options.version }, this.diag);
    return this.discovery ? { ...address, discoveryFile: this.discovery.file } : address;
  }

  private onExit(code: number): void {
    if (this.closing) return;
    this.discovery?.remove();
    this.diag.failure('worker', new Error(`the agent's worker stopped (exit code ${code}); its figures are lost, and the agent goes on in the app's main thread`));
    this.requests.failAll(new Error("the agent's worker stopped"));
    clearInterval(this.pushTimer);
    // The process figures go on from this thread's sampler (closed with the link).
    const local = inlineBack(this.options, this.view, this.diag, { system: this.sampler });
    this.fallback = local;
    this.recorder.redirect(local.recorder);
    for (const l of this.alertListeners) local.onAlert(l);
    const waiting = this.listening;
    this.listening = undefined;
    if (this.options.server !== false) void local.listen().then((address) => waiting?.(address));
  }

  private emptySnapshot(): Snapshot {
    const s = this.front.full();
    return {
      protocolVersion: s.info!.protocolVersion,
      agent: s.info!,
      time: Date.now(),
      endpoints: [],
      system: { ...s.system!, requestsPerSecond: 0, errorRate: 0, time: Date.now() },
      alerts: this.judged.firing,
      alertHistory: [],
      thresholds: this.judged.thresholds,
      health: this.judged.health,
      slowRequests: [],
      ...(s.cache ? { cache: s.cache } : {}),
      rateLimits: s.rateLimits ?? [],
      droppedEndpoints: 0,
      paused: s.paused ?? false,
      ...(s.findings ? { findings: s.findings } : {}),
    };
  }
}

/** What this thread's parts reported last: `changes()` is what moved since. */
class FrontTracker {
  private info = '';
  private cache = -1;
  private cacheCursor: ReturnType<NonNullable<FrontView['cache']>['readEvents']>['cursor'] | undefined;
  private rateLimits = -1;
  private findings = -1;
  private slowQueries = '';
  private paused: boolean | undefined;
  private samples = -1;
  private calls = 0;

  constructor(
    private readonly view: FrontView,
    private readonly sampler: SystemSampler,
  ) {
    this.cacheCursor = view.cache?.readEvents().cursor;
  }

  /** Everything, as the worker starts with it; later changes() tell what moved since. */
  full(): FrontState {
    const v = this.view;
    this.cache = v.cache?.revision() ?? -1;
    this.rateLimits = v.rateLimits.revision();
    this.findings = v.findings?.revision() ?? -1;
    this.samples = this.sampler.samples;
    return {
      info: v.info(),
      cache: v.cache?.stats() ?? null,
      rateLimits: v.rateLimits.list(),
      findings: v.findings?.list() ?? null,
      slowQueries: v.findings?.slowQueries() ?? [],
      paused: v.paused(),
      system: this.sampler.stats(Date.now(), 0, 0),
    };
  }

  /**
   * What moved. The agent's info (the app's ports, read from the process's handles) and the
   * findings' slow-query summaries change seldom and cost a scan each: on the timer they are
   * looked at every SLOW_EVERY calls; `all` (before a question or after a command) looks now.
   */
  changes(all: boolean): FrontState | undefined {
    const v = this.view;
    const out: FrontState = {};
    let moved = false;
    const slowParts = all || ++this.calls % SLOW_EVERY === 0;
    if (slowParts) {
      const info = v.info();
      const infoKey = JSON.stringify(info);
      if (infoKey !== this.info) {
        this.info = infoKey;
        out.info = info;
        moved = true;
      }
    }
    if (v.cache) {
      const revision = v.cache.revision();
      if (revision !== this.cache) {
        this.cache = revision;
        out.cache = v.cache.stats();
        moved = true;
      }
      const read = v.cache.readEvents(this.cacheCursor);
      this.cacheCursor = read.cursor;
      if (read.events.length > 0 || read.dropped > 0) {
        out.cacheEvents = { events: read.events, dropped: read.dropped };
        moved = true;
      }
    }
    const rateLimits = v.rateLimits.revision();
    if (rateLimits !== this.rateLimits) {
      this.rateLimits = rateLimits;
      out.rateLimits = v.rateLimits.list();
      moved = true;
    }
    if (v.findings) {
      const revision = v.findings.revision();
      if (revision !== this.findings) {
        this.findings = revision;
        out.findings = v.findings.list();
        moved = true;
      }
      const slowQueries = slowParts ? v.findings.slowQueries() : undefined;
      const key = slowQueries && JSON.stringify(slowQueries);
      if (slowQueries !== undefined && key !== this.slowQueries) {
        this.slowQueries = key!;
        out.slowQueries = slowQueries;
        moved = true;
      }
    }
    const paused = v.paused();
    if (paused !== this.paused) {
      this.paused = paused;
      out.paused = paused;
      moved = true;
    }
    if (this.sampler.samples !== this.samples) {
      this.samples = this.sampler.samples;
      out.system = this.sampler.stats(Date.now(), 0, 0);
      moved = true;
    }
    return moved ? out : undefined;
  }
}
