/**
 * The dashboard's state: the selected agent's snapshot with deltas merged in, time series kept
 * in bounded rings, and the UI choices that survive a hidden or reloaded panel (persisted with
 * the webview API's setState).
 */
import type {
  AgentInfo,
  Alert,
  CacheEvent,
  CacheStats,
  Delta,
  EndpointStats,
  HealthReport,
  RateLimitStats,
  SlowRequest,
  Snapshot,
  SystemStats,
  Thresholds,
  WindowName,
} from '../protocol/types';
import { WINDOWS } from '../protocol/types';
import type { AgentSummary, DashboardTab } from '../protocol/webview';
import { Ring } from './ring';

/** Kept here (not imported) so the bundle does not pull protocol/webview.ts and zod. */
export const TABS = ['overview', 'endpoints', 'cache', 'rateLimits', 'alerts', 'slow', 'system'] as const satisfies readonly DashboardTab[];

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
  slowRequests: 500,
  cacheEvents: 200,
} as const;

export interface UiState {
  tab: DashboardTab;
  sort: { key: SortKey; dir: 'asc' | 'desc' };
  filter: string;
  window: WindowName;
  selectedEndpoint: string | null;
}

/** One point of the overview series (per second). Rates are fractions, null when unknown. */
export interface SeriesPoint {
  t: number;
  rps: number;
  errorRate: number;
  /** The worst route p95 over the last minute. */
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
  return { tab: 'overview', sort: { key: 'p95', dir: 'desc' }, filter: '', window: '1m', selectedEndpoint: null };
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
      tab: (TABS as readonly string[]).includes(ui.tab as string) ? (ui.tab as DashboardTab) : d.tab,
      sort: {
        key: sortKey === 'route' || (SORT_KEYS as readonly string[]).includes(sortKey as string) ? (sortKey as SortKey) : d.sort.key,
        dir: ui.sort?.dir === 'asc' ? 'asc' : 'desc',
      },
      filter: typeof ui.filter === 'string' ? ui.filter.slice(0, 200) : '',
      window: (WINDOWS as readonly string[]).includes(ui.window as string) ? (ui.window as WindowName) : d.window,
      selectedEndpoint: typeof ui.selectedEndpoint === 'string' ? ui.selectedEndpoint : null,
    },
    agentId: typeof s.agentId === 'string' ? s.agentId : null,
    series: Array.isArray(s.series) ? s.series.slice(-LIMITS.seriesPoints) : [],
    namespaces: Array.isArray(s.namespaces) ? s.namespaces.slice(0, LIMITS.namespaces) : [],
  };
}

/** Which part of the state changed; views re-render only when theirs did. */
export type Area = 'agents' | 'endpoints' | 'system' | 'alerts' | 'slow' | 'cache' | 'rateLimits' | 'series' | 'ui';

export class Store {
  ui: UiState = defaultUi();
  agents: AgentSummary[] = [];
  selectedAgent: string | null = null;

  /** The agent whose snapshot is shown; null until the first snapshot. */
  agentId: string | null = null;
  agent: AgentInfo | null = null;
  time = 0;
  readonly endpoints = new Map<string, EndpointStats>();
  system: SystemStats | null = null;
  alerts: Alert[] = [];
  alertHistory: Alert[] = [];
  thresholds: Thresholds | null = null;
  health: HealthReport | null = null;
  /** Newest first, bounded. */
  slow: SlowRequest[] = [];
  cache: CacheStats | undefined;
  readonly cacheEvents = new Ring<CacheEvent>(LIMITS.cacheEvents);
  droppedCacheEvents = 0;
  rateLimits: RateLimitStats[] = [];
  droppedEndpoints = 0;

  readonly series = new Ring<SeriesPoint>(LIMITS.seriesPoints);
  readonly endpointSeries = new Map<string, Ring<EndpointPoint>>();
  readonly namespaceSeries = new Map<string, Ring<NamespacePoint>>();

  /** A revision per area, bumped on change. */
  readonly rev: Record<Area, number> = { agents: 0, endpoints: 0, system: 0, alerts: 0, slow: 0, cache: 0, rateLimits: 0, series: 0, ui: 0 };
  /** Ids of endpoints changed since the table last looked (it clears this). */
  readonly changedEndpoints = new Set<string>();

  private listeners: Array<(areas: Set<Area>) => void> = [];

  get hasSnapshot(): boolean {
    return this.agentId !== null;
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
  private restoredAgent: string | null = null;

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

  applySnapshot(agentId: string, snap: Snapshot): void {
    const sameAgent = agentId === (this.agentId ?? this.restoredAgent);
    this.restoredAgent = null;
    if (!sameAgent) {
      this.series.clear();
      this.endpointSeries.clear();
      this.namespaceSeries.clear();
      this.cacheEvents.clear();
    }
    this.agentId = agentId;
    this.agent = snap.agent;
    this.time = snap.time;
    this.endpoints.clear();
    for (const e of snap.endpoints) this.endpoints.set(e.id, e);
    this.changedEndpoints.clear();
    this.system = snap.system;
    this.alerts = snap.alerts;
    this.alertHistory = snap.alertHistory;
    this.thresholds = snap.thresholds;
    this.health = snap.health;
    this.slow = snap.slowRequests.slice().sort((a, b) => b.time - a.time).slice(0, LIMITS.slowRequests);
    this.cache = snap.cache;
    this.rateLimits = snap.rateLimits;
    this.droppedEndpoints = snap.droppedEndpoints;
    this.droppedCacheEvents = 0;
    for (const e of snap.endpoints) this.sampleEndpoint(e, snap.time);
    this.sample(snap.time);
    this.emit(new Set<Area>(['agents', 'endpoints', 'system', 'alerts', 'slow', 'cache', 'rateLimits', 'series']));
  }

  applyDelta(agentId: string, d: Delta): void {
    if (agentId !== this.agentId) return; // a late delta of an agent no longer shown
    const areas = new Set<Area>();
    this.time = Math.max(this.time, d.time);
    if (d.endpoints) {
      for (const e of d.endpoints) {
        this.endpoints.set(e.id, e);
        this.changedEndpoints.add(e.id);
        this.sampleEndpoint(e, d.time);
      }
      areas.add('endpoints');
    }
    if (d.removedEndpoints) {
      for (const id of d.removedEndpoints) {
        this.endpoints.delete(id);
        this.endpointSeries.delete(id);
        this.changedEndpoints.add(id);
      }
      areas.add('endpoints');
    }
    if (d.droppedEndpoints !== undefined) {
      this.droppedEndpoints = d.droppedEndpoints;
      areas.add('endpoints');
    }
    if (d.system) {
      this.system = d.system;
      areas.add('system');
    }
    if (d.alerts) {
      this.alerts = d.alerts;
      areas.add('alerts');
    }
    if (d.alertHistory) {
      this.alertHistory = d.alertHistory;
      areas.add('alerts');
    }
    if (d.thresholds) {
      this.thresholds = d.thresholds;
      areas.add('alerts');
    }
    if (d.health) {
      this.health = d.health;
      areas.add('system');
    }
    if (d.slowRequests && d.slowRequests.length > 0) {
      const added = d.slowRequests.slice().sort((a, b) => b.time - a.time);
      this.slow = added.concat(this.slow).slice(0, LIMITS.slowRequests);
      areas.add('slow');
    }
    if (d.cache) {
      this.cache = d.cache;
      areas.add('cache');
    }
    if (d.cacheEvents) {
      for (const ev of d.cacheEvents) this.cacheEvents.push(ev);
      areas.add('cache');
    }
    if (d.droppedCacheEvents) {
      this.droppedCacheEvents += d.droppedCacheEvents;
      areas.add('cache');
    }
    if (d.rateLimits) {
      this.rateLimits = d.rateLimits;
      areas.add('rateLimits');
    }
    if (areas.has('endpoints') || areas.has('system') || areas.has('cache')) {
      this.sample(d.time);
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
    let p95 = 0;
    for (const e of this.endpoints.values()) {
      const w = e.windows?.['1m'];
      if (w && w.count > 0 && w.p95 > p95) p95 = w.p95;
    }
    const sys = this.system;
    const c = this.cache?.enabled ? this.cache : undefined;
    addPoint(this.series, {
      t,
      rps: sys?.requestsPerSecond ?? 0,
      errorRate: sys?.errorRate ?? 0,
      p95,
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
