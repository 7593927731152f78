/**
 * The cache findings.
 *
 *  cache-opportunity  a route whose recent traced requests (the last
 *                     ROUTE_TRACES) mostly run the same read with the very same
 *                     text (no `?` in its normalised form: nothing varies), that
 *                     takes a large share of the route's time, in requests that
 *                     read nothing from the agent's cache.
 *  low-hit-rate       a cache namespace whose hit rate (from the cache's hit and
 *                     miss events) is under Thresholds.cacheHitRate, with the
 *                     likely reason: keys read again after they were dropped
 *                     (the TTL is shorter than the reuse interval), or keys read
 *                     once (the key holds something that changes per request).
 */
import type { CacheEvent, SourceLocation, SpanKind, Trace } from '../../protocol';
import { ms, pct, short } from '../alerts/format';
import { type Observation, locate, round1, round3 } from './detect';

/** Traced requests per route the cache-opportunity detector looks back on. */
const ROUTE_TRACES = 20;
const MAX_ROUTES = 200;
const MAX_NAMESPACES = 100;
const MAX_KEYS_PER_NAMESPACE = 5000;

/** A read: a SELECT, a Redis read command, an outbound GET, a MongoDB find. */
const READ = /^(select|with|get|mget|hget|hgetall|hmget|smembers|lrange|zrange|zrangebyscore|exists|find|findone|aggregate|count)\b/i;
const READ_KINDS: ReadonlySet<SpanKind> = new Set(['db', 'redis', 'http']);

interface TracedRead {
  kind: SpanKind;
  name: string;
  location: SourceLocation;
  ms: number;
}

interface TraceDigest {
  durationMs: number;
  cached: boolean;
  reads: ReadonlyMap<string, TracedRead>;
}

/** The reads of a trace without any: one shared empty map, not one per kept digest. */
const NO_READS: ReadonlyMap<string, TracedRead> = new Map();

export interface OpportunityOptions {
  /** Traced requests of the route needed before judging. */
  minRequests: number;
  /** Share of the traced requests the read must appear in. */
  minPresence: number;
  /** Share of the route's time the read must take. */
  minShare: number;
  routeLocation?: (endpoint: string) => SourceLocation | undefined;
}

export const DEFAULT_OPPORTUNITY: OpportunityOptions = { minRequests: 5, minPresence: 0.8, minShare: 0.3 };

/** Per route, the digest of its last traced requests. */
export class CacheOpportunities {
  private readonly routes = new Map<string, TraceDigest[]>();

  constructor(private readonly options: OpportunityOptions) {}

  observe(trace: Trace, out: Observation[]): void {
    let digests = this.routes.get(trace.endpoint);
    if (!digests) {
      if (this.routes.size >= MAX_ROUTES) this.routes.delete(this.routes.keys().next().value!);
      this.routes.set(trace.endpoint, (digests = []));
    }
    digests.push(digest(trace, this.options));
    if (digests.length > ROUTE_TRACES) digests.shift();
    if (digests.length >= this.options.minRequests) this.judge(trace, digests, out);
  }

  private judge(trace: Trace, digests: readonly TraceDigest[], out: Observation[]): void {
    const uncached = digests.filter((d) => !d.cached);
    if (uncached.length < this.options.minPresence * digests.length) return;
    const totalMs = digests.reduce((sum, d) => sum + d.durationMs, 0);
    const latest = digests[digests.length - 1]!;
    for (const [key, read] of latest.reads) {
      let seen = 0;
      let readMs = 0;
      for (const d of uncached) {
        const r = d.reads.get(key);
        if (!r) continue;
        seen++;
        readMs += r.ms;
      }
      const share = totalMs > 0 ? readMs / totalMs : 0;
      if (seen < this.options.minPresence * digests.length || share < this.options.minShare) continue;
      out.push({
        kind: 'cache-opportunity',
        severity: 'info',
        endpoint: trace.endpoint,
        location: read.location,
        message: `${short(read.name)} ran with the same text in ${seen} of the last ${digests.length} traced requests of ${short(trace.endpoint)}, ${ms(readMs / seen)} per request (${pct(share)} of the route's time), and nothing cached it`,
        recommendation: 'cache the result: agent.cache.getOrSet(key, loader, { ttl }) around the read, or the whole response with agent.cacheResponses({ ttl }) if it is the same for every caller',
        evidence: { requests: digests.length, seen, meanMs: round1(readMs / seen), share: round3(share), operation: short(read.name) },
        requestId: trace.requestId,
      });
    }
  }
}

function digest(trace: Trace, options: OpportunityOptions): TraceDigest {
  let reads: Map<string, TracedRead> | undefined;
  let cached = false;
  trace.spans.forEach((span, i) => {
    if (span.kind === 'cache') cached = true;
    if (!READ_KINDS.has(span.kind) || span.name.includes('?') || !READ.test(span.name)) return;
    const key = `${span.kind} ${span.name}`;
    const known = reads?.get(key);
    if (known) {
      known.ms += span.durationMs;
      return;
    }
    const location = locate(trace, i, options);
    if (location) (reads ??= new Map()).set(key, { kind: span.kind, name: span.name, location, ms: span.durationMs });
  });
  return { durationMs: trace.durationMs, cached, reads: reads ?? NO_READS };
}

// ---------------------------------------------------------------- low-hit-rate

interface KeyUse {
  last: number;
  reads: number;
  expired: boolean;
}

interface NamespaceUse {
  hits: number;
  misses: number;
  /** Misses of a key never read before. */
  firstMisses: number;
  /** Misses of a key read before, and the sum of the intervals since that read. */
  reMisses: number;
  reuseMsSum: number;
  keys: Map<string, KeyUse>;
  /** The endpoint that read it most recently. */
  route?: string;
}

export interface HitRateOptions {
  /** Reads of a namespace (since its counts last halved) before it is judged. */
  minReads: number;
}

/** Hit and miss events per namespace, and the low-hit-rate judgement over them. */
export class HitRates {
  private readonly namespaces = new Map<string, NamespaceUse>();
  /** Where the app reads each namespace: from cache spans of traces. */
  private readonly locations = new Map<string, SourceLocation>();

  constructor(
    private readonly options: HitRateOptions,
    private readonly routeLocation?: (endpoint: string) => SourceLocation | undefined,
  ) {}

  /** Learns where each namespace is read from the trace's cache spans (`cache.get users:?`). */
  observeTrace(trace: Trace): void {
    for (const span of trace.spans) {
      if (span.kind !== 'cache' || !span.location) continue;
      const key = span.name.slice(span.name.indexOf(' ') + 1);
      const colon = key.indexOf(':');
      const namespace = colon < 0 ? '' : key.slice(0, colon);
      if (!this.locations.has(namespace) && this.locations.size >= MAX_NAMESPACES) continue;
      this.locations.set(namespace, span.location);
    }
  }

  observeEvents(events: readonly CacheEvent[]): void {
    for (const e of events) {
      if (e.key === undefined || (e.kind !== 'hit' && e.kind !== 'miss' && e.kind !== 'expiry')) continue;
      const use = this.use(e.namespace ?? '');
      if (!use) continue;
      let key = use.keys.get(e.key);
      if (e.kind === 'expiry') {
        if (key) key.expired = true;
        continue;
      }
      if (e.route !== undefined) use.route = e.route;
      if (e.kind === 'hit') use.hits++;
      else {
        use.misses++;
        if (key && key.reads > 0) {
          use.reMisses++;
          use.reuseMsSum += Math.max(0, e.time - key.last);
        } else use.firstMisses++;
      }
      if (!key) {
        if (use.keys.size >= MAX_KEYS_PER_NAMESPACE) use.keys.delete(use.keys.keys().next().value!);
        use.keys.set(e.key, (key = { last: e.time, reads: 0, expired: false }));
      }
      key.last = e.time;
      key.reads++;
      key.expired = false;
    }
  }

  /** One observation per namespace under `hitRate` with enough reads; counts halve once judged, so old reads fade. */
  judge(hitRate: number, out: Observation[]): void {
    for (const [namespace, use] of this.namespaces) {
      const reads = use.hits + use.misses;
      if (reads < this.options.minReads) continue;
      const rate = use.hits / reads;
      if (rate < hitRate) {
        const location = this.locations.get(namespace) ?? (use.route !== undefined ? this.routeLocation?.(use.route) : undefined);
        if (location) out.push(lowHitRate(namespace, use, rate, hitRate, location));
      }
      halve(use);
    }
  }

  private use(namespace: string): NamespaceUse | undefined {
    let use = this.namespaces.get(namespace);
    if (!use) {
      if (this.namespaces.size >= MAX_NAMESPACES) return undefined;
      this.namespaces.set(namespace, (use = { hits: 0, misses: 0, firstMisses: 0, reMisses: 0, reuseMsSum: 0, keys: new Map() }));
    }
    return use;
  }
}

function lowHitRate(namespace: string, use: NamespaceUse, rate: number, threshold: number, location: SourceLocation): Observation {
  const reads = use.hits + use.misses;
  const name = namespace === '' ? '(no namespace)' : short(namespace);
  const base = `cache namespace ${name}: hit rate ${pct(rate)} < ${pct(threshold)} (${use.hits} hits, ${use.misses} misses)`;
  let readOnce = 0;
  for (const key of use.keys.values()) if (key.reads === 1) readOnce++;
  const evidence: Record<string, number | string> = { hitRate: round3(rate), threshold, reads, misses: use.misses, reMisses: use.reMisses, firstMisses: use.firstMisses, distinctKeys: use.keys.size, keysReadOnce: readOnce };
  const endpoint = `cache:${namespace}`;
  if (use.reMisses >= use.misses / 2 && use.reMisses > 0) {
    const reuseMs = use.reuseMsSum / use.reMisses;
    evidence.reason = 'ttl';
    evidence.meanReuseMs = Math.round(reuseMs);
    return {
      kind: 'low-hit-rate',
      severity: 'warning',
      endpoint,
      location,
      message: `${base}; ${use.reMisses} of the misses were keys read before, again ${ms(reuseMs)} later on average: the TTL is likely shorter than the reuse interval`,
      recommendation: `give the namespace a TTL longer than about ${ms(reuseMs)} (its \`ttl\`), serve stale while revalidating (\`grace\`), or keep the keys warm with a warmer`,
      evidence,
    };
  }
  evidence.reason = 'key-shape';
  return {
    kind: 'low-hit-rate',
    severity: 'warning',
    endpoint,
    location,
    message: `${base}; ${use.firstMisses} of the misses were keys read for the first time, and ${readOnce} of ${use.keys.size} distinct keys were read only once: the key likely holds something that changes per request`,
    recommendation: 'build the key from only what the value depends on (drop timestamps, request or session ids, unordered query strings), or stop caching what is never read twice',
    evidence,
  };
}

function halve(use: NamespaceUse): void {
  use.hits = Math.floor(use.hits / 2);
  use.misses = Math.floor(use.misses / 2);
  use.firstMisses = Math.floor(use.firstMisses / 2);
  use.reMisses = Math.floor(use.reMisses / 2);
  use.reuseMsSum /= 2;
}
