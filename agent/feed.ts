/**
 * The agent's side of the change feed (protocol/feed.ts says how a client
 * applies it): a reader holds its position in every part's revisions and
 * builds a Delta of what moved since its previous read, or nothing when
 * nothing did. Reading consumes nothing, so readers are independent.
 *
 * What each field carries and when:
 *   endpoints, removedEndpoints  endpoints changed (a sample, a registration, a reset, a window that slid)
 *   slowRequests                 new slow requests, newest first
 *   system                       once per process sample (`systemMs`), not per read
 *   alerts, alertHistory, health when any of them changed
 *   thresholds                   when set by a command
 *   cache, cacheEvents           when the stats changed; the events after this reader's previous read
 *   rateLimits                   when any limiter's figures changed
 *   droppedEndpoints             when the count changed
 *   paused                       when measuring was paused or resumed
 *   findings                     in full, when any finding changed
 */
import type { Delta, Finding } from '../protocol';
import type { Cache } from './cache';
import type { EventCursor } from './cache/stats';
import type { Alerts, Clock, Metrics, MetricsCursor } from './internal';
import type { RateLimits } from './ratelimit';

export interface FeedSources {
  clock: Clock;
  metrics: Metrics | undefined;
  alerts: Alerts;
  /** Grows when the thresholds are set. */
  thresholdsRevision: () => number;
  cache: Pick<Cache, 'readEvents' | 'revision' | 'stats'> | undefined;
  rateLimits: Pick<RateLimits, 'list' | 'revision'>;
  /** True while measuring is paused. */
  paused: () => boolean;
  /** The findings (absent: none recorded). */
  findings?: { revision(): number; list(): Finding[] };
}

/** One reader's position in every source. */
class FeedReader {
  private metrics: MetricsCursor | undefined;
  private droppedEndpoints: number;
  private alerts: number;
  private thresholds: number;
  private cache: number;
  private cacheEvents: EventCursor | undefined;
  private rateLimits: number;
  private paused: boolean;
  private findings: number;
  /** Whether this reader's client knows the findings: its snapshot carried them, or a delta did since. */
  private findingsKnown: boolean;

  constructor(private readonly src: FeedSources) {
    this.metrics = src.metrics?.cursor();
    this.droppedEndpoints = src.metrics?.droppedEndpoints() ?? 0;
    this.alerts = src.alerts.revision();
    this.thresholds = src.thresholdsRevision();
    this.cache = src.cache?.revision() ?? 0;
    this.cacheEvents = src.cache?.readEvents().cursor;
    this.rateLimits = src.rateLimits.revision();
    this.paused = src.paused();
    this.findings = src.findings?.revision() ?? 0;
    this.findingsKnown = src.findings !== undefined;
  }

  /** What moved since the previous read, or undefined. */
  next(): Delta | undefined {
    const src = this.src;
    const delta: Delta = { time: src.clock() };
    let moved = this.readMetrics(delta);
    const alerts = src.alerts.revision();
    if (alerts !== this.alerts) {
      this.alerts = alerts;
      delta.alerts = src.alerts.active();
      delta.alertHistory = src.alerts.history();
      delta.health = src.alerts.health();
      moved = true;
    }
    const thresholds = src.thresholdsRevision();
    if (thresholds !== this.thresholds) {
      this.thresholds = thresholds;
      delta.thresholds = src.alerts.thresholds();
      moved = true;
    }
    if (this.readCache(delta)) moved = true;
    const rateLimits = src.rateLimits.revision();
    if (rateLimits !== this.rateLimits) {
      this.rateLimits = rateLimits;
      delta.rateLimits = src.rateLimits.list();
      moved = true;
    }
    const paused = src.paused();
    if (paused !== this.paused) {
      this.paused = paused;
      delta.paused = paused;
      moved = true;
    }
    const findings = src.findings?.revision() ?? 0;
    if (findings !== this.findings) {
      this.findings = findings;
      const list = src.findings!.list();
      // Findings that appear after the client connected (in the worker, with the app's first report) and hold none yet tell it nothing.
      if (list.length > 0 || this.findingsKnown) {
        this.findingsKnown = true;
        delta.findings = list;
        moved = true;
      }
    }
    return moved ? delta : undefined;
  }

  private readMetrics(delta: Delta): boolean {
    const m = this.src.metrics;
    if (!m || !this.metrics) return false;
    const changes = m.changesSince(this.metrics);
    this.metrics = changes.cursor;
    let moved = false;
    if (changes.endpoints.length) {
      delta.endpoints = changes.endpoints;
      moved = true;
    }
    if (changes.removedEndpoints.length) {
      delta.removedEndpoints = changes.removedEndpoints;
      moved = true;
    }
    if (changes.slowRequests.length) {
      delta.slowRequests = changes.slowRequests;
      moved = true;
    }
    if (changes.system) {
      delta.system = changes.system;
      moved = true;
    }
    const dropped = m.droppedEndpoints();
    if (dropped !== this.droppedEndpoints) {
      this.droppedEndpoints = dropped;
      delta.droppedEndpoints = dropped;
      moved = true;
    }
    return moved;
  }

  private readCache(delta: Delta): boolean {
    const cache = this.src.cache;
    if (!cache || !this.cacheEvents) return false;
    let moved = false;
    const read = cache.readEvents(this.cacheEvents);
    this.cacheEvents = read.cursor;
    if (read.events.length) {
      delta.cacheEvents = read.events;
      moved = true;
    }
    if (read.dropped) {
      delta.droppedCacheEvents = read.dropped;
      moved = true;
    }
    const revision = cache.revision();
    if (revision !== this.cache) {
      this.cache = revision;
      delta.cache = cache.stats();
      moved = true;
    }
    return moved;
  }
}

/** Opens a reader at the current position: each call returns what moved since the previous one, or undefined. */
export function openFeed(src: FeedSources): () => Delta | undefined {
  const reader = new FeedReader(src);
  return () => reader.next();
}
