/**
 * The change feed: how a `Delta` changes the state a client holds. One rule
 * per field, written once here and used by every side that applies or folds
 * deltas (the extension's store and its webview throttle, the dashboard's
 * state, tests). Pure, and free of any validation library, so the webview
 * bundle imports it as it is.
 *
 * | field              | rule                                                        |
 * | ------------------ | ----------------------------------------------------------- |
 * | time               | replace                                                     |
 * | endpoints          | upsert by `id`                                              |
 * | removedEndpoints   | remove from `endpoints` by `id`                             |
 * | system, thresholds, health, cache, rateLimits, droppedEndpoints, paused | replace |
 * | alerts             | replace (the full list of firing alerts)                    |
 * | alertHistory       | replace (newest first, bounded by the agent)                |
 * | slowRequests       | prepend (newest first), keep `SLOW_REQUESTS_KEPT`           |
 * | cacheEvents        | append (oldest first), keep `CACHE_EVENTS_KEPT`             |
 * | droppedCacheEvents | add                                                         |
 *
 * The agent sends a field only when it changed; an absent field leaves the
 * state as it was. Within one delta an id both upserted and removed stays
 * (the upsert wins); `mergeDeltas` keeps that meaning across two deltas.
 *
 * A client looks endpoints up by id with an index kept in step with the
 * state by `updateEndpointIndex` (same rule, no scan of the list).
 */
import type { CacheEvent, Delta, EndpointStats, Snapshot } from './types';

/** Slow requests the agent keeps and a client holds, newest first. */
export const SLOW_REQUESTS_KEPT = 100;
/** Cache events a client holds, oldest first. */
export const CACHE_EVENTS_KEPT = 200;

/**
 * What a client holds of one agent: its snapshot, plus what only the stream
 * carries (the recent cache events and how many the agent dropped).
 */
export interface FeedState extends Snapshot {
  cacheEvents: CacheEvent[];
  droppedCacheEvents: number;
}

/** What only the stream carries, beyond a snapshot. */
export type StreamFields = Pick<FeedState, 'cacheEvents' | 'droppedCacheEvents'>;

/**
 * The state a snapshot starts. A snapshot that is itself a client's state (the
 * extension hands its state to the dashboard) keeps its stream fields;
 * otherwise they come from `carry` (a resync of the same agent keeps the cache
 * events already seen) or start empty.
 */
export function stateFromSnapshot(snapshot: Snapshot & Partial<StreamFields>, carry?: StreamFields): FeedState {
  const stream = Array.isArray(snapshot.cacheEvents) ? snapshot : carry;
  return {
    ...snapshot,
    slowRequests: snapshot.slowRequests.slice(0, SLOW_REQUESTS_KEPT),
    cacheEvents: appendEvents([], stream?.cacheEvents ?? []),
    droppedCacheEvents: stream?.droppedCacheEvents ?? 0,
  };
}

/** The snapshot part of a state (without the stream fields), e.g. for an exported report. */
export function snapshotOf(state: Snapshot & Partial<StreamFields>): Snapshot {
  const out: Snapshot & Partial<StreamFields> = { ...state };
  delete out.cacheEvents;
  delete out.droppedCacheEvents;
  return out;
}

/**
 * Applies one delta and returns the new state. The input is not modified;
 * fields the delta does not touch are shared with it, so a caller can tell
 * what moved by identity.
 */
export function applyDelta(state: FeedState, delta: Delta): FeedState {
  const next: FeedState = { ...state, time: delta.time };
  if (delta.endpoints || delta.removedEndpoints) next.endpoints = upsertEndpoints(state.endpoints, delta.endpoints, delta.removedEndpoints);
  replaceFields(next, delta);
  if (delta.slowRequests?.length) next.slowRequests = prependSlow(delta.slowRequests, state.slowRequests);
  if (delta.cacheEvents?.length) next.cacheEvents = appendEvents(state.cacheEvents, delta.cacheEvents);
  if (delta.droppedCacheEvents) next.droppedCacheEvents = state.droppedCacheEvents + delta.droppedCacheEvents;
  return next;
}

/**
 * Folds two consecutive deltas into one that has the same effect as applying
 * `a` then `b` (used to throttle what a slower reader receives).
 */
export function mergeDeltas(a: Delta, b: Delta): Delta {
  const out: Delta = { ...a, time: b.time };
  replaceFields(out, b);
  if (a.endpoints || a.removedEndpoints || b.endpoints || b.removedEndpoints) {
    const upserted = new Map<string, EndpointStats>();
    const removed = new Set<string>();
    for (const e of a.endpoints ?? []) upserted.set(e.id, e);
    for (const id of a.removedEndpoints ?? []) removed.add(id);
    for (const id of b.removedEndpoints ?? []) {
      upserted.delete(id);
      removed.add(id);
    }
    for (const e of b.endpoints ?? []) {
      upserted.set(e.id, e);
      removed.delete(e.id);
    }
    setOrDelete(out, 'endpoints', upserted.size ? [...upserted.values()] : undefined);
    setOrDelete(out, 'removedEndpoints', removed.size ? [...removed] : undefined);
  }
  if (a.slowRequests?.length || b.slowRequests?.length) out.slowRequests = prependSlow(b.slowRequests ?? [], a.slowRequests ?? []);
  if (a.cacheEvents?.length || b.cacheEvents?.length) out.cacheEvents = appendEvents(a.cacheEvents ?? [], b.cacheEvents ?? []);
  if (a.droppedCacheEvents || b.droppedCacheEvents) out.droppedCacheEvents = (a.droppedCacheEvents ?? 0) + (b.droppedCacheEvents ?? 0);
  return out;
}

/**
 * Keeps a map id → endpoint in step with `applyDelta` applied to the same
 * delta: upserted endpoints set, removed ones deleted (an upsert in the same
 * delta wins). Work is proportional to the delta, not to the endpoints held.
 */
export function updateEndpointIndex(index: Map<string, EndpointStats>, delta: Delta): void {
  const removed = delta.removedEndpoints ?? [];
  const upserts = delta.endpoints ?? [];
  const kept = removed.length && upserts.length ? new Set(upserts.map((e) => e.id)) : undefined;
  for (const id of removed) if (!kept?.has(id)) index.delete(id);
  for (const e of upserts) index.set(e.id, e);
}

/** A map id → endpoint of a state's endpoints. */
export function endpointIndex(endpoints: readonly EndpointStats[]): Map<string, EndpointStats> {
  return new Map(endpoints.map((e) => [e.id, e]));
}

/** The fields whose rule is "replace": a delta that carries one carries it whole. */
const REPLACED = ['system', 'alerts', 'alertHistory', 'thresholds', 'health', 'cache', 'rateLimits', 'droppedEndpoints', 'paused', 'findings'] as const satisfies ReadonlyArray<keyof Delta & keyof Snapshot>;

/** Copies every replaced field `from` carries onto `to`. */
function replaceFields(to: Partial<Record<(typeof REPLACED)[number], unknown>>, from: Delta): void {
  for (const field of REPLACED) if (from[field] !== undefined) to[field] = from[field];
}

/** Ids of the endpoints a delta upserts or removes. */
export function touchedEndpoints(delta: Delta): string[] {
  const ids = (delta.endpoints ?? []).map((e) => e.id);
  for (const id of delta.removedEndpoints ?? []) ids.push(id);
  return ids;
}

/** Endpoints with `upserts` replaced or added (new ones at the end, order otherwise kept) and `removed` gone. */
function upsertEndpoints(current: EndpointStats[], upserts: EndpointStats[] = [], removed: string[] = []): EndpointStats[] {
  const changed = new Map<string, EndpointStats>(upserts.map((e) => [e.id, e]));
  const gone = new Set(removed.filter((id) => !changed.has(id)));
  const out: EndpointStats[] = [];
  for (const e of current) {
    if (gone.has(e.id)) continue;
    const update = changed.get(e.id);
    out.push(update ?? e);
    if (update) changed.delete(e.id);
  }
  for (const e of changed.values()) out.push(e);
  return out;
}

function prependSlow<T>(newer: readonly T[], older: readonly T[]): T[] {
  return newer.concat(older).slice(0, SLOW_REQUESTS_KEPT);
}

function appendEvents(older: readonly CacheEvent[], newer: readonly CacheEvent[]): CacheEvent[] {
  const all = older.concat(newer);
  return all.length > CACHE_EVENTS_KEPT ? all.slice(all.length - CACHE_EVENTS_KEPT) : all;
}

function setOrDelete<K extends keyof Delta>(d: Delta, key: K, value: Delta[K] | undefined): void {
  if (value === undefined) delete d[key];
  else d[key] = value;
}
