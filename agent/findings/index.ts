/**
 * Findings: why routes are slow, each pinned to a line of the user's code.
 *
 * The engine is fed finished traces (`observe`, called on the app's thread
 * after a traced request ended, never before its response) and, on its own
 * unref()'d timer, the loop's lateness and the cache's hit and miss events. It
 * folds what the detectors see into findings with a stable id (kind +
 * endpoint + location), counting occurrences and keeping example request ids.
 *
 *   detect.ts       n-plus-one, slow-query, sequential-awaits (one trace at a time)
 *   blocking.ts     the lag probe, and blocks the app held matched to a request's handler or middleware span
 *   thread-time.ts  the main thread's CPU time and wait for a CPU (who held a late tick: the app or the OS)
 *   cache.ts        cache-opportunity (a route's recent traces), low-hit-rate (cache events)
 *
 * Slow queries also go to `onSlowQuery` (the agent writes them into the slow
 * log) and are summed per route for the slow-query alert (`slowQueries()`).
 */
import { createHash } from 'node:crypto';
import type { CacheEvent, Finding, SlowRequest, SourceLocation, Thresholds, Trace } from '../../protocol';
import type { EventCursor, EventRead } from '../cache/stats';
import { type Clock, type SlowQuerySummary, sameLocation, systemClock } from '../internal';
import type { Diagnostics } from '../log';
import { Revision } from '../revision';
import { truncate } from '../text';
import { type Block, BlockRing, LagProbe, attributeBlocks, heldMs } from './blocking';
import { CacheOpportunities, DEFAULT_OPPORTUNITY, HitRates } from './cache';
import { type DetectOptions, type Observation, SLOW_KINDS, detectTrace, locate, locationKey } from './detect';

export type { Observation } from './detect';

export interface FindingsOptions {
  /** The current thresholds (slowQueryMs, cacheHitRate, slowMs), read at each use so thresholds.set applies at once. */
  thresholds: () => Pick<Thresholds, 'slowQueryMs' | 'cacheHitRate' | 'slowMs'>;
  clock?: Clock;
  /** The same operation this many times in one request at one call site is an N+1; default 5. */
  nPlusOne?: number;
  /** Gap (ms) within which a call that starts after the previous one ended counts as awaited right after it; default 5. */
  sequentialGapMs?: number;
  /** Sequential calls are reported when running them together would save this many ms; default 10. */
  sequentialMinSavingMs?: number;
  /** The loop blocked longer than this (ms) in a request is a finding; default 50. */
  blockMs?: number;
  /** The lag probe's period (ms); default 20. */
  probeMs?: number;
  /** Run the lag probe (which also reads the cache's events) from the first trace on; default true (tests drive `tick` by hand). */
  timer?: boolean;
  /** Findings kept (the least recently seen go first); default 200. */
  maxFindings?: number;
  /** A finding not seen for this long is dropped (ms); default 1 hour. */
  forgetAfterMs?: number;
  /** Reads of a cache namespace before its hit rate is judged; default 100. */
  cacheMinReads?: number;
  /** Where a span without a location is pinned: the route's handler. */
  routeLocation?: (endpoint: string) => SourceLocation | undefined;
  /** The cache's event log (Cache.readEvents), for low-hit-rate. */
  cacheEvents?: (cursor?: EventCursor) => EventRead;
  /** Each slow query, as a slow-log entry. */
  onSlowQuery?: (entry: SlowRequest) => void;
  diag?: Diagnostics;
}

const MAX_REQUEST_IDS = 5;
const MAX_SLOW_QUERIES = 500;
const MAX_PENDING = 500;
const SLOW_QUERY_WINDOW_MS = 60_000;
/** Probe ticks between two reads of the cache's events, and between two cache judgements. */
const EVENT_READ_TICKS = 50;
const JUDGE_TICKS = 500;
const MAX_ID_PART = 512;
const MAX_FRAME_ROUTES = 500;
const MAX_FRAMES_PER_ROUTE = 32;

interface SlowQuery {
  time: number;
  endpoint: string;
  name: string;
  location?: SourceLocation;
  ms: number;
}

export class FindingsEngine {
  readonly #o: Required<Pick<FindingsOptions, 'nPlusOne' | 'sequentialGapMs' | 'sequentialMinSavingMs' | 'blockMs' | 'probeMs' | 'maxFindings' | 'forgetAfterMs'>>;
  readonly #options: FindingsOptions;
  readonly #clock: Clock;
  readonly #findings = new Map<string, Finding>();
  readonly #revision = new Revision();
  readonly #slow: SlowQuery[] = [];
  readonly #blocks = new BlockRing();
  /** Traces waiting for the probe's next tick before their blocks are matched. */
  #pending: Trace[] = [];
  readonly #probe: LagProbe | undefined;
  readonly #opportunities: CacheOpportunities;
  readonly #hitRates: HitRates;
  /**
   * Per endpoint, the handler and middleware locations its traces showed (for route profiles): the
   * one location itself while there is one (most routes), then an array of just their length.
   */
  readonly #frames = new Map<string, SourceLocation | SourceLocation[]>();
  #eventCursor: EventCursor | undefined;
  #ticks = 0;
  #probing = false;
  #closed = false;

  constructor(options: FindingsOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#o = {
      nPlusOne: Math.max(2, Math.floor(options.nPlusOne ?? 5)),
      sequentialGapMs: options.sequentialGapMs ?? 5,
      sequentialMinSavingMs: options.sequentialMinSavingMs ?? 10,
      blockMs: options.blockMs ?? 50,
      probeMs: options.probeMs ?? 20,
      maxFindings: options.maxFindings ?? 200,
      forgetAfterMs: options.forgetAfterMs ?? 3_600_000,
    };
    this.#opportunities = new CacheOpportunities({ ...DEFAULT_OPPORTUNITY, routeLocation: options.routeLocation });
    this.#hitRates = new HitRates({ minReads: options.cacheMinReads ?? 100 }, options.routeLocation);
    this.#eventCursor = options.cacheEvents?.().cursor;
    if (options.timer !== false) this.#probe = new LagProbe(this.#o.probeMs, this.#o.blockMs, this.#clock, (now, block) => this.tick(now, block));
  }

  /** A traced request finished: run the detectors on it. Never throws. */
  observe(trace: Trace): void {
    try {
      if (this.#probe && !this.#probing && !this.#closed) {
        this.#probing = true;
        this.#probe.start(); // an app that records no spans pays nothing
      }
      const thresholds = this.#options.thresholds();
      const detect: DetectOptions = {
        nPlusOne: this.#o.nPlusOne,
        slowQueryMs: thresholds.slowQueryMs,
        sequentialGapMs: this.#o.sequentialGapMs,
        sequentialMinSavingMs: this.#o.sequentialMinSavingMs,
        routeLocation: onceFor(this.#options.routeLocation),
      };
      const seen = detectTrace(trace, detect);
      this.#opportunities.observe(trace, seen);
      this.#hitRates.observeTrace(trace);
      this.#learnFrames(trace);
      for (const o of seen) this.#add(o);
      this.#slowQueries(trace, thresholds, detect);
      this.#pending.push(trace);
      if (this.#pending.length > MAX_PENDING) this.#pending.shift();
    } catch (err) {
      this.#options.diag?.failure('findings', err);
    }
  }

  /**
   * One tick of the lag probe (called by its timer; tests call it by hand): keeps a block the app held, matches
   * traces that ended by `now` against the blocks, and now and then reads the cache's events.
   */
  tick(now: number, block?: Block): void {
    try {
      if (block && heldMs(block) >= this.#o.blockMs) this.#blocks.add(block); // a late tick the OS caused takes no place in the ring
      if (this.#pending.length > 0) {
        const later: Trace[] = [];
        for (const trace of this.#pending) {
          if (trace.startedAt + trace.durationMs > now) later.push(trace);
          else if (this.#blocks.blocks.length > 0) for (const o of attributeBlocks(trace, this.#blocks.blocks, this.#o.blockMs)) this.#add(o);
        }
        this.#pending = later;
      }
      this.#ticks++;
      if (this.#ticks % EVENT_READ_TICKS === 0) this.readCacheEvents();
      if (this.#ticks % JUDGE_TICKS === 0) this.judge(now);
    } catch (err) {
      this.#options.diag?.failure('findings.tick', err);
    }
  }

  /** Reads the cache's new hit and miss events (the timer does it every second). */
  readCacheEvents(): void {
    const read = this.#options.cacheEvents;
    if (!read || !this.#eventCursor) return;
    const r = read(this.#eventCursor);
    this.#eventCursor = r.cursor;
    if (r.events.length > 0) this.observeCacheEvents(r.events);
  }

  observeCacheEvents(events: readonly CacheEvent[]): void {
    this.#hitRates.observeEvents(events);
  }

  /** Judges the cache namespaces' hit rates and forgets findings unseen for long (the timer does it every 10 s). */
  judge(now = this.#clock()): void {
    const out: Observation[] = [];
    this.#hitRates.judge(this.#options.thresholds().cacheHitRate, out);
    for (const o of out) this.#add(o);
    for (const [id, f] of this.#findings) {
      if (now - f.lastSeen > this.#o.forgetAfterMs) {
        this.#findings.delete(id);
        this.#revision.mark();
      }
    }
  }

  /** Every finding, most recently seen first (copies). */
  list(): Finding[] {
    return [...this.#findings.values()].sort((a, b) => b.lastSeen - a.lastSeen).map((f) => ({ ...f, location: { ...f.location }, evidence: { ...f.evidence }, requestIds: [...f.requestIds] }));
  }

  /** Grows when any finding changed. */
  revision(): number {
    return this.#revision.value();
  }

  /** Per route, its slow queries of the last minute (the slow-query alert's input). */
  slowQueries(now = this.#clock()): SlowQuerySummary[] {
    const byRoute = new Map<string, SlowQuerySummary>();
    for (const q of this.#slow) {
      if (now - q.time > SLOW_QUERY_WINDOW_MS) continue;
      const s = byRoute.get(q.endpoint);
      if (!s) byRoute.set(q.endpoint, { endpoint: q.endpoint, name: q.name, ...(q.location ? { location: q.location } : {}), maxMs: q.ms, count: 1 });
      else {
        s.count++;
        if (q.ms > s.maxMs) Object.assign(s, { name: q.name, maxMs: q.ms, location: q.location });
      }
    }
    return [...byRoute.values()];
  }

  /** The handler and middleware locations the endpoint's traces showed. */
  routeFrames(endpoint: string): SourceLocation[] {
    const frames = this.#frames.get(endpoint);
    return frames === undefined ? [] : Array.isArray(frames) ? [...frames] : [frames];
  }

  close(): void {
    this.#closed = true;
    this.#probe?.stop();
    this.#pending = [];
  }

  #slowQueries(trace: Trace, thresholds: Pick<Thresholds, 'slowQueryMs' | 'slowMs'>, detect: DetectOptions): void {
    for (const [i, span] of trace.spans.entries()) {
      if (span.durationMs < thresholds.slowQueryMs || !SLOW_KINDS.has(span.kind)) continue;
      const location = locate(trace, i, detect);
      const time = trace.startedAt + span.startMs;
      this.#slow.push({ time, endpoint: trace.endpoint, name: span.name, ...(location ? { location } : {}), ms: span.durationMs });
      if (this.#slow.length > MAX_SLOW_QUERIES) this.#slow.shift();
      const t = thresholds.slowMs;
      const severity = span.durationMs >= t.critical ? 'critical' : span.durationMs >= t.warning ? 'warning' : 'info';
      this.#options.onSlowQuery?.({
        requestId: trace.requestId,
        method: trace.method,
        route: trace.route,
        path: trace.route,
        status: trace.status,
        duration: Math.round(span.durationMs * 1000) / 1000,
        time,
        severity,
        span: { kind: span.kind, name: span.name, ...(location ? { location } : {}) },
      });
    }
  }

  #learnFrames(trace: Trace): void {
    let frames = this.#frames.get(trace.endpoint);
    if (frames === undefined && this.#frames.size >= MAX_FRAME_ROUTES) return;
    for (const span of trace.spans) {
      const at = span.location;
      if ((span.kind !== 'handler' && span.kind !== 'middleware') || !at) continue;
      if (frames === undefined) frames = at;
      else if (!Array.isArray(frames)) {
        if (sameLocation(frames, at)) continue;
        frames = [frames, at];
      } else {
        if (frames.length >= MAX_FRAMES_PER_ROUTE || frames.some((f) => sameLocation(f, at))) continue;
        // concat: a new array of just its length (push would keep room for 16 more, per route).
        frames = frames.concat(at);
      }
      this.#frames.set(trace.endpoint, frames);
    }
  }

  /** Folds one observation into its finding (same kind, endpoint and location: same id). */
  #add(o: Observation): void {
    const id = findingId(o);
    const now = this.#clock();
    const known = this.#findings.get(id);
    if (known) {
      known.severity = o.severity === 'warning' ? 'warning' : known.severity;
      known.message = o.message;
      known.recommendation = o.recommendation;
      known.evidence = o.evidence;
      known.lastSeen = now;
      known.occurrences++;
      if (o.requestId !== undefined) addRequestId(known.requestIds, o.requestId);
    } else {
      if (this.#findings.size >= this.#o.maxFindings) this.#evictOldest();
      const { requestId, ...rest } = o;
      this.#findings.set(id, { id, ...rest, requestIds: requestId !== undefined ? [truncate(requestId, 128)] : [], firstSeen: now, lastSeen: now, occurrences: 1 });
    }
    this.#revision.mark();
  }

  #evictOldest(): void {
    let oldest: Finding | undefined;
    for (const f of this.#findings.values()) if (!oldest || f.lastSeen < oldest.lastSeen) oldest = f;
    if (oldest) this.#findings.delete(oldest.id);
  }
}

/** `n-plus-one-<16 hex>`: the same for the same kind, endpoint and location. */
export function findingId(o: Pick<Observation, 'kind' | 'endpoint' | 'location'>): string {
  const hash = createHash('sha1').update(`${o.kind}\u0000${o.endpoint.slice(0, MAX_ID_PART)}\u0000${locationKey(o.location).slice(0, MAX_ID_PART * 2)}`).digest('hex');
  return `${o.kind}-${hash.slice(0, 16)}`;
}

/** The route's location looked up once per trace (a trace has one endpoint). */
function onceFor(lookup: FindingsOptions['routeLocation']): FindingsOptions['routeLocation'] {
  if (!lookup) return undefined;
  let done = false;
  let found: SourceLocation | undefined;
  return (endpoint) => {
    if (!done) {
      done = true;
      found = lookup(endpoint);
    }
    return found;
  };
}

function addRequestId(ids: string[], id: string): void {
  const short = truncate(id, 128);
  const at = ids.indexOf(short);
  if (at >= 0) ids.splice(at, 1);
  ids.unshift(short);
  if (ids.length > MAX_REQUEST_IDS) ids.length = MAX_REQUEST_IDS;
}
