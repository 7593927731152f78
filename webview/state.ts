/**
 * The dashboard's state: the selected agent's state, changed only by the change feed's rules
 * (protocol/feed.ts: the same functions the extension applies); what the webview derives from
 * it (time series in bounded rings, marks on changed endpoints) from what each delta touched;
 * and the UI choices that survive a hidden or reloaded panel (persisted with setState).
 */
import { type FeedState, type StreamFields, applyDelta, stateFromSnapshot, touchedEndpoints, updateEndpointIndex } from '../protocol/feed';
import type { Finding } from '../protocol/spans';
import type { AgentInfo, Alert, CacheEvent, CacheStats, Delta, EndpointStats, HealthReport, RateLimitStats, SlowRequest, Snapshot, SystemStats, Thresholds, WindowName } from '../protocol/types';
import { WINDOWS } from '../protocol/types';
import { type AgentSummary, DASHBOARD_TABS, type DashboardTab } from '../protocol/webview';
import { worstP95 } from '../protocol/format';
import { NowRate, requestTotal } from '../protocol/rate';
import { HISTORY_RANGES, type HistoryRange } from './historyData';
import { Ring } from './ring';

export const SORT_KEYS = ['p50', 'p95', 'p99', 'avg', 'max', 'count', 'errors'] as const;
export type SortKey = (typeof SORT_KEYS)[number] | 'route';

/** Limits on what the webview keeps. */
export const LIMITS = {
  /** Points in each global series: 10 minutes at one point per second. */
  seriesPoints: 600,
  /** Per-endpoint timeline points (5 minutes at 1/s) and how many endpoints keep one. */
  endpointPoints: 300,
  endpointTimelines: 300,
  /** Per-namespace hit-rate series kept. */
  namespaces: 12,
} as const;

export interface UiState {
  tab: DashboardTab;
  sort: { key: SortKey; dir: 'asc' | 'desc' };
  filter: string;
  window: WindowName;
  selectedEndpoint: string | null;
  /** The History tab's span. */
  historyRange: HistoryRange;
  /** The History tab's route (follows an endpoint opened from the lists); null: the selected or the busiest one. */
  historyEndpoint: string | null;
}

/** One point of the overview series (per second). Rates are fractions, null when unknown. */
export interface SeriesPoint {
  t: number;
  /** Requests per second now (the last 5 s, `NowRate`); the agent's last-minute rate until that is known. */
  rps: number;
  /** Over the last minute (the agent's). */
  errorRate: number;
  /** The worst route p95 over the last minute, among routes whose minute holds enough requests for one. */
  p95: number;
  rss: number;
  heapUsed: number;
  elP99: number;
  l1: number | null;
  l2: number | null;
  overall: number | null;
}

export interface EndpointPoint {
  t: number;
  p95: number;
  count: number;
}

export interface NamespacePoint {
  t: number;
  hitRate: number;
}

/** What setState stores. Versioned so an older shape is ignored rather than misread. */
export interface PersistedState {
  v: 1;
  ui: UiState;
  agentId: string | null;
  series: SeriesPoint[];
  namespaces: Array<[string, NamespacePoint[]]>;
}

export function defaultUi(): UiState {
  return { tab: 'overview', sort: { key: 'p95', dir: 'desc' }, filter: '', window: '1m', selectedEndpoint: null, historyRange: '24h', historyEndpoint: null };
}

/** Reads a persisted state defensively: anything malformed falls back to defaults. */
export function readPersisted(raw: unknown): PersistedState | null {
  if (!raw || typeof raw !== 'object') return null;
  const s = raw as Partial<PersistedState>;
  if (s.v !== 1 || !s.ui || typeof s.ui !== 'object') return null;
  const d = defaultUi();
  const ui = s.ui as Partial<UiState>;
  const sortKey = ui.sort?.key;
  return {
    v: 1,
    ui: {
      tab: (DASHBOARD_TABS as readonly string[]).includes(ui.tab as string) ? (ui.tab as DashboardTab) : d.tab,
      sort: {
        key: sortKey === 'route' || (SORT_KEYS as readonly string[]).includes(sortKey as string) ? (sortKey as SortKey) : d.sort.key,
        dir: ui.sort?.dir === 'asc' ? 'asc' : 'desc',
      },
      filter: typeof ui.filter === 'string' ? ui.filter.slice(0, 200) : '',
      window: (WINDOWS as readonly string[]).includes(ui.window as string) ? (ui.window as WindowName) : d.window,
      selectedEndpoint: typeof ui.selectedEndpoint === 'string' ? ui.selectedEndpoint : null,
      historyRange: (HISTORY_RANGES as readonly string[]).includes(ui.historyRange as string) ? (ui.historyRange as HistoryRange) : d.historyRange,
      historyEndpoint: typeof ui.historyEndpoint === 'string' ? ui.historyEndpoint : null,
    },
    agentId: typeof s.agentId === 'string' ? s.agentId : null,
    series: Array.isArray(s.series) ? s.series.slice(-LIMITS.seriesPoints) : [],
    namespaces: Array.isArray(s.namespaces) ? s.namespaces.slice(0, LIMITS.namespaces) : [],
  };
}

/** Which part of the state changed; views re-render only when theirs did. */
export type Area = 'agents' | 'endpoints' | 'system' | 'alerts' | 'slow' | 'cache' | 'rateLimits' | 'series' | 'ui' | 'findings';

export class Store {
  ui: UiState = defaultUi();
  agents: AgentSummary[] = [];
  selectedAgent: string | null = null;

  /** The agent whose state is shown; null until the first snapshot. */
  agentId: string | null = null;
  /** The shown agent's state, changed only by the change feed's rules (protocol/feed.ts). */
  private feed: FeedState | null = null;
  /** The same endpoints by id, kept in step with `feed` (`updateEndpointIndex`). */
  readonly endpoints = new Map<string, EndpointStats>();

  readonly series = new Ring<SeriesPoint>(LIMITS.seriesPoints);
  readonly endpointSeries = new Map<string, Ring<EndpointPoint>>();
  readonly namespaceSeries = new Map<string, Ring<NamespacePoint>>();
  /** Requests per second over the last few seconds, from the request totals of successive states. */
  private readonly now = new NowRate();

  /** A revision per area, bumped on change. */
  readonly rev: Record<Area, number> = { agents: 0, endpoints: 0, system: 0, alerts: 0, slow: 0, cache: 0, rateLimits: 0, series: 0, ui: 0, findings: 0 };
  /** Ids of endpoints changed since the table last looked (it clears this). */
  readonly changedEndpoints = new Set<string>();

  private listeners: Array<(areas: Set<Area>) => void> = [];
  private restoredAgent: string | null = null;

  get hasSnapshot(): boolean {
    return this.agentId !== null;
  }
  get agent(): AgentInfo | null {
    return this.feed?.agent ?? null;
  }
  get time(): number {
    return this.feed?.time ?? 0;
  }
  get system(): SystemStats | null {
    return this.feed?.system ?? null;
  }
  get alerts(): Alert[] {
    return this.feed?.alerts ?? [];
  }
  get alertHistory(): Alert[] {
    return this.feed?.alertHistory ?? [];
  }
  get thresholds(): Thresholds | null {
    return this.feed?.thresholds ?? null;
  }
  get health(): HealthReport | null {
    return this.feed?.health ?? null;
  }
  /** Newest first, bounded (SLOW_REQUESTS_KEPT). */
  get slow(): SlowRequest[] {
    return this.feed?.slowRequests ?? [];
  }
  get cache(): CacheStats | undefined {
    return this.feed?.cache;
  }
  /** Oldest first, bounded (CACHE_EVENTS_KEPT). */
  get cacheEvents(): CacheEvent[] {
    return this.feed?.cacheEvents ?? [];
  }
  get droppedCacheEvents(): number {
    return this.feed?.droppedCacheEvents ?? 0;
  }
  get rateLimits(): RateLimitStats[] {
    return this.feed?.rateLimits ?? [];
  }
  /** Why routes are slow (protocol/spans.ts); empty when the agent records no spans. */
  get findings(): Finding[] {
    return this.feed?.findings ?? [];
  }
  get droppedEndpoints(): number {
    return this.feed?.droppedEndpoints ?? 0;
  }
  /** Requests per second now (`NOW_WINDOW_MS`); undefined until a second of deltas came. */
  get nowRate(): number | undefined {
    return this.now.perSecond();
  }

  onChange(fn: (areas: Set<Area>) => void): void {
    this.listeners.push(fn);
  }

  private emit(areas: Set<Area>): void {
    for (const a of areas) this.rev[a]++;
    for (const fn of this.listeners) fn(areas);
  }

  /** Restores persisted UI and series (series are kept only if the same agent's snapshot follows). */
  restore(p: PersistedState): void {
    this.ui = p.ui;
    this.restoredAgent = p.agentId;
    for (const point of p.series) if (isPoint(point)) this.series.push(point);
    for (const [ns, points] of p.namespaces) {
      if (typeof ns !== 'string' || !Array.isArray(points)) continue;
      const ring = new Ring<NamespacePoint>(LIMITS.seriesPoints);
      for (const pt of points.slice(-LIMITS.seriesPoints)) if (pt && typeof pt.t === 'number' && typeof pt.hitRate === 'number') ring.push(pt);
      this.namespaceSeries.set(ns, ring);
    }
  }

  persisted(): PersistedState {
    return {
      v: 1,
      ui: this.ui,
      agentId: this.agentId ?? this.restoredAgent,
      series: this.series.toArray(),
      namespaces: [...this.namespaceSeries].map(([ns, ring]) => [ns, ring.toArray()]),
    };
  }

  setUi(patch: Partial<UiState>): void {
    this.ui = { ...this.ui, ...patch };
    this.emit(new Set<Area>(['ui']));
  }

  setAgents(agents: AgentSummary[], selected: string | null): void {
    this.agents = agents;
    this.selectedAgent = selected;
    this.emit(new Set<Area>(['agents']));
  }

  /** The agent's answer to `thresholds.set` (the next delta says the same). */
  setThresholds(thresholds: Thresholds): void {
    if (!this.feed) return;
    this.feed = { ...this.feed, thresholds };
    this.emit(new Set<Area>(['alerts']));
  }

  /**
   * Starts over from the host's state of an agent. The time series (derived
   * here) survive a snapshot of the same agent; the cache events come with the
   * host's state.
   */
  applySnapshot(agentId: string, snap: Snapshot & Partial<StreamFields>): void {
    const sameAgent = agentId === (this.agentId ?? this.restoredAgent);
    this.restoredAgent = null;
    if (!sameAgent) {
      this.series.clear();
      this.endpointSeries.clear();
      this.namespaceSeries.clear();
      this.now.clear();
    }
    const carry = sameAgent && this.feed ? this.feed : undefined;
    this.agentId = agentId;
    this.feed = stateFromSnapshot(snap, carry);
    this.endpoints.clear();
    for (const e of this.feed.endpoints) this.endpoints.set(e.id, e);
    this.changedEndpoints.clear();
    for (const e of this.feed.endpoints) this.sampleEndpoint(e, this.feed.time);
    this.sample(this.feed.time);
    this.emit(new Set<Area>(['agents', 'endpoints', 'system', 'alerts', 'slow', 'cache', 'rateLimits', 'series', 'findings']));
  }

  /** Applies a delta by the feed's rules; the derived extras follow what it touched. */
  applyDelta(agentId: string, d: Delta): void {
    const prev = this.feed;
    if (agentId !== this.agentId || !prev) return; // a late delta of an agent no longer shown
    const next = applyDelta(prev, d);
    this.feed = next;
    updateEndpointIndex(this.endpoints, d);
    // applyDelta shares every field it did not change: identity says what moved.
    const areas = new Set<Area>();
    if (next.endpoints !== prev.endpoints || next.droppedEndpoints !== prev.droppedEndpoints) areas.add('endpoints');
    if (next.system !== prev.system || next.health !== prev.health) areas.add('system');
    if (next.alerts !== prev.alerts || next.alertHistory !== prev.alertHistory || next.thresholds !== prev.thresholds) areas.add('alerts');
    if (next.slowRequests !== prev.slowRequests) areas.add('slow');
    if (next.cache !== prev.cache || next.cacheEvents !== prev.cacheEvents || next.droppedCacheEvents !== prev.droppedCacheEvents) areas.add('cache');
    if (next.rateLimits !== prev.rateLimits) areas.add('rateLimits');
    if (next.findings !== prev.findings) areas.add('findings');
    for (const id of touchedEndpoints(d)) {
      this.changedEndpoints.add(id);
      const e = this.endpoints.get(id);
      if (e) this.sampleEndpoint(e, next.time);
      else this.endpointSeries.delete(id);
    }
    if (areas.has('endpoints') || areas.has('system') || areas.has('cache')) {
      this.sample(next.time);
      areas.add('series');
    }
    if (areas.size > 0) this.emit(areas);
  }

  /** Endpoint rows in the live window chosen. */
  summary(e: EndpointStats, window: WindowName = this.ui.window) {
    return e.windows?.[window] ?? e;
  }

  private sampleEndpoint(e: EndpointStats, t: number): void {
    let ring = this.endpointSeries.get(e.id);
    if (!ring) {
      if (this.endpointSeries.size >= LIMITS.endpointTimelines) {
        const oldest = this.endpointSeries.keys().next().value;
        if (oldest !== undefined) this.endpointSeries.delete(oldest);
      }
      ring = new Ring<EndpointPoint>(LIMITS.endpointPoints);
      this.endpointSeries.set(e.id, ring);
    }
    const w = e.windows?.['1m'] ?? e;
    addPoint(ring, { t, p95: w.p95, count: w.count });
  }

  /** One overview point per second (a later sample in the same second replaces it). */
  private sample(t: number): void {
    const worst = worstP95(this.endpoints.values(), '1m');
    this.now.add(t, requestTotal(this.endpoints.values()));
    const sys = this.system;
    const c = this.cache?.enabled ? this.cache : undefined;
    addPoint(this.series, {
      t,
      rps: this.now.perSecond() ?? sys?.requestsPerSecond ?? 0,
      errorRate: sys?.errorRate ?? 0,
      p95: worst ? worst.windows['1m'].p95 : 0,
      rss: sys?.rss ?? 0,
      heapUsed: sys?.heapUsed ?? 0,
      elP99: sys?.eventLoop.delayP99 ?? 0,
      l1: c ? c.l1.hitRate : null,
      l2: c && c.redis !== 'none' ? c.l2.hitRate : null,
      overall: c ? c.overall.hitRate : null,
    });
    if (c) {
      for (const ns of c.namespaces) {
        let ring = this.namespaceSeries.get(ns.namespace);
        if (!ring) {
          if (this.namespaceSeries.size >= LIMITS.namespaces) continue;
          ring = new Ring<NamespacePoint>(LIMITS.seriesPoints);
          this.namespaceSeries.set(ns.namespace, ring);
        }
        addPoint(ring, { t, hitRate: ns.hitRate });
      }
    }
  }
}

function addPoint<P extends { t: number }>(ring: Ring<P>, point: P): void {
  const last = ring.last();
  if (last && Math.floor(last.t / 1000) === Math.floor(point.t / 1000)) ring.replaceLast(point);
  else if (last && point.t < last.t) return; // out of order: ignore
  else ring.push(point);
}

function isPoint(p: unknown): p is SeriesPoint {
  return !!p && typeof p === 'object' && typeof (p as SeriesPoint).t === 'number' && typeof (p as SeriesPoint).rps === 'number';
}
