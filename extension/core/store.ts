/**
 * One agent's state: the last snapshot with every delta since merged in. Pure.
 * Each connection owns its own store, so figures are never mixed between agents.
 */
import type { Delta, EndpointStats, Snapshot } from '../../protocol';

/** Slow requests kept per agent (newest last). */
export const MAX_SLOW_REQUESTS = 200;

/** Applies a delta to a snapshot and returns a new snapshot (the input is not modified). */
export function applyDelta(snapshot: Snapshot, delta: Delta): Snapshot {
  const next: Snapshot = { ...snapshot, time: delta.time };
  if (delta.endpoints || delta.removedEndpoints) {
    const byId = new Map<string, EndpointStats>(snapshot.endpoints.map((e) => [e.id, e]));
    for (const id of delta.removedEndpoints ?? []) byId.delete(id);
    for (const e of delta.endpoints ?? []) byId.set(e.id, e);
    next.endpoints = [...byId.values()];
  }
  if (delta.system) next.system = delta.system;
  if (delta.alerts) next.alerts = delta.alerts;
  if (delta.alertHistory) next.alertHistory = delta.alertHistory;
  if (delta.thresholds) next.thresholds = delta.thresholds;
  if (delta.health) next.health = delta.health;
  if (delta.slowRequests?.length) next.slowRequests = [...snapshot.slowRequests, ...delta.slowRequests].slice(-MAX_SLOW_REQUESTS);
  if (delta.cache) next.cache = delta.cache;
  if (delta.rateLimits) next.rateLimits = delta.rateLimits;
  if (delta.droppedEndpoints !== undefined) next.droppedEndpoints = delta.droppedEndpoints;
  return next;
}

/** Folds two consecutive deltas into one (used to throttle what the webview receives). */
export function mergeDeltas(a: Delta, b: Delta): Delta {
  const out: Delta = { ...a, ...stripUndefined(b), time: b.time };
  if (a.endpoints || b.endpoints || a.removedEndpoints || b.removedEndpoints) {
    const byId = new Map<string, EndpointStats>();
    for (const e of a.endpoints ?? []) byId.set(e.id, e);
    const removed = new Set(a.removedEndpoints ?? []);
    for (const id of b.removedEndpoints ?? []) {
      byId.delete(id);
      removed.add(id);
    }
    for (const e of b.endpoints ?? []) {
      byId.set(e.id, e);
      removed.delete(e.id);
    }
    out.endpoints = byId.size ? [...byId.values()] : undefined;
    out.removedEndpoints = removed.size ? [...removed] : undefined;
  }
  if (a.slowRequests || b.slowRequests) out.slowRequests = [...(a.slowRequests ?? []), ...(b.slowRequests ?? [])].slice(-MAX_SLOW_REQUESTS);
  if (a.cacheEvents || b.cacheEvents) out.cacheEvents = [...(a.cacheEvents ?? []), ...(b.cacheEvents ?? [])].slice(-500);
  if (a.droppedCacheEvents !== undefined || b.droppedCacheEvents !== undefined) out.droppedCacheEvents = (a.droppedCacheEvents ?? 0) + (b.droppedCacheEvents ?? 0);
  for (const k of Object.keys(out) as Array<keyof Delta>) if (out[k] === undefined) delete out[k];
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}

export class AgentStore {
  private current: Snapshot | undefined;
  private lastSeq = -1;
  /** Increments on every full snapshot (a restart or resync): line trackers re-sync on it. */
  generation = 0;

  get snapshot(): Snapshot | undefined {
    return this.current;
  }

  setSnapshot(snapshot: Snapshot, seq: number): void {
    this.current = snapshot;
    this.lastSeq = seq;
    this.generation++;
  }

  /**
   * Applies a delta. A delta older than the snapshot is ignored ('stale').
   * A skipped sequence number is applied anyway and reported as 'gap' (deltas
   * carry whole objects, and the agent sends a fresh snapshot to a client
   * that fell behind); the client counts gaps for diagnostics.
   */
  applyDelta(delta: Delta, seq: number): 'applied' | 'gap' | 'stale' | 'no-snapshot' {
    if (!this.current) return 'no-snapshot';
    if (seq <= this.lastSeq) return 'stale';
    const gap = seq !== this.lastSeq + 1;
    this.current = applyDelta(this.current, delta);
    this.lastSeq = seq;
    return gap ? 'gap' : 'applied';
  }

  endpoint(id: string): EndpointStats | undefined {
    return this.current?.endpoints.find((e) => e.id === id);
  }

  clear(): void {
    this.current = undefined;
    this.lastSeq = -1;
  }
}
