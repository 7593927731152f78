/**
 * The change feed (protocol/feed.ts) and every client that applies it: the
 * extension's store, its webview throttle and the dashboard's state. Deltas
 * come from a real agent's activity (server off: each delta is what changed
 * between two of its snapshots, by the feed's rules) and from random
 * generators; applied in any grouping they must end at the final snapshot.
 */
import assert from 'node:assert/strict';
import type { AddressInfo, Server } from 'node:net';
import express from 'express';
import { createAgent } from '../../agent';
import {
  CACHE_EVENTS_KEPT,
  type CacheEvent,
  type Delta,
  type EndpointStats,
  type FeedState,
  type HostToWebview,
  SLOW_REQUESTS_KEPT,
  type SlowRequest,
  type Snapshot,
  applyDelta,
  mergeDeltas,
  snapshotOf,
  stateFromSnapshot,
  touchedEndpoints,
  updateEndpointIndex,
} from '../../protocol';
import { AgentStore } from '../../extension/core/store';
import { type Clock, UpdateThrottle } from '../../extension/dashboard/router';
import { Store } from '../../webview/state';

/** A small seeded PRNG (mulberry32), so a failing seed can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), chance: (p: number) => next() < p };
}

const slowKey = (r: SlowRequest) => `${r.requestId}|${r.time}|${r.path}|${r.duration}`;
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** What changed from `prev` to `next`, written by the feed's rules (one delta per pair of snapshots). */
function deltaBetween(prev: Snapshot, next: Snapshot): Delta {
  const d: Delta = { time: next.time };
  const before = new Map(prev.endpoints.map((e) => [e.id, e]));
  const changed = next.endpoints.filter((e) => !same(before.get(e.id), e));
  if (changed.length) d.endpoints = changed;
  const ids = new Set(next.endpoints.map((e) => e.id));
  const removed = prev.endpoints.filter((e) => !ids.has(e.id)).map((e) => e.id);
  if (removed.length) d.removedEndpoints = removed;
  const newestBefore = prev.slowRequests[0] ? slowKey(prev.slowRequests[0]) : undefined;
  const cut = next.slowRequests.findIndex((r) => slowKey(r) === newestBefore);
  const added = cut < 0 ? next.slowRequests : next.slowRequests.slice(0, cut);
  if (added.length) d.slowRequests = added;
  for (const k of ['system', 'alerts', 'alertHistory', 'thresholds', 'health', 'cache', 'rateLimits', 'droppedEndpoints', 'paused'] as const) {
    if (!same(prev[k], next[k])) Object.assign(d, { [k]: next[k] });
  }
  return d;
}

/** A state as compared: the snapshot part, endpoints in id order. */
function comparable(s: Snapshot): Snapshot {
  const out = snapshotOf(s);
  return { ...out, endpoints: [...out.endpoints].sort((a, b) => (a.id < b.id ? -1 : 1)) };
}

/** A real agent (no server) and a real Express app; `step` does some random activity and returns a snapshot. */
async function agentActivity(seed: number) {
  const r = rng(seed);
  const agent = createAgent({ server: false, cache: false, express, name: `feed-${seed}`, thresholds: { slowMs: { info: 0.001, warning: 2, critical: 5 } } });
  const app = express();
  app.use(agent.middleware());
  app.get('/users/:id', (req, res) => void res.json({ id: req.params.id }));
  app.post('/orders', (_req, res) => void res.status(201).end());
  app.get('/fail', (_req, res) => void res.status(500).end());
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let n = 0;
  return {
    async step(): Promise<Snapshot> {
      if (agent.paused) agent.resume();
      for (let i = r.int(7); i > 0; i--) {
        const pick = r.int(3);
        const q = `?n=${n++}`;
        if (pick === 0) await fetch(`${base}/users/${r.int(5)}${q}`).then((x) => x.text());
        else if (pick === 1) await fetch(`${base}/orders${q}`, { method: 'POST' }).then((x) => x.text());
        else await fetch(`${base}/fail${q}`).then((x) => x.text());
      }
      for (let i = r.int(4); i > 0; i--) agent.record(`job${r.int(4)}`, r.next() * 80, { error: r.chance(0.2) });
      // Resetting a custom timing removes it; resetting a route zeroes it.
      if (r.chance(0.25)) await agent.execute('reset', { endpoint: `CUSTOM job${r.int(4)}` }).catch(() => undefined);
      if (r.chance(0.1)) await agent.execute('reset', { endpoint: 'GET /users/:id' }).catch(() => undefined);
      // Paused now and then between two snapshots (resumed before the next step's requests).
      if (r.chance(0.2)) await agent.execute('measuring.set', { paused: true });
      return agent.snapshot();
    },
    async close() {
      await agent.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Random consecutive groups of deltas, each folded with mergeDeltas. */
function regroup(deltas: Delta[], r: ReturnType<typeof rng>): Delta[] {
  const out: Delta[] = [];
  for (let i = 0; i < deltas.length; ) {
    const size = 1 + r.int(5);
    out.push(deltas.slice(i, i + size).reduce((a, b) => mergeDeltas(a, b)));
    i += size;
  }
  return out;
}

/** What the webview receives from an UpdateThrottle fed `first` then `deltas` (random gaps between them). */
function throughThrottle(first: Snapshot, deltas: Delta[], r: ReturnType<typeof rng>): HostToWebview[] {
  let now = 0;
  let timer: { at: number; fn: () => void } | undefined;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => (timer = { at: now + ms, fn }),
    clearTimeout: () => (timer = undefined),
  };
  const sent: HostToWebview[] = [];
  const t = new UpdateThrottle((m) => sent.push(m), 250, clock);
  const advance = (ms: number) => {
    now += ms;
    if (timer && timer.at <= now) {
      const fn = timer.fn;
      timer = undefined;
      fn();
    }
  };
  t.snapshot('a', first);
  for (const d of deltas) {
    advance(r.int(300));
    t.delta('a', d);
  }
  advance(1000);
  t.flush();
  return sent;
}

describe('change feed: every client ends at the agent snapshot', function () {
  this.timeout(60_000);

  for (const seed of [1, 2, 3]) {
    it(`real agent activity, seed ${seed}: store, throttle, merged groups and the webview all equal the final snapshot`, async () => {
      const activity = await agentActivity(seed);
      const snaps: Snapshot[] = [];
      try {
        for (let i = 0; i < 45; i++) snaps.push(await activity.step());
      } finally {
        await activity.close();
      }
      const first = snaps[0]!;
      const last = snaps[snaps.length - 1]!;
      const deltas = snaps.slice(1).map((s, i) => deltaBetween(snaps[i]!, s));
      assert.ok(deltas.some((d) => d.removedEndpoints?.length), 'some endpoint was removed');
      assert.ok(last.slowRequests.length === SLOW_REQUESTS_KEPT, 'the agent kept a full slow log (trimming exercised)');
      const r = rng(seed * 7919);

      // The extension's store, one delta per message.
      const store = new AgentStore();
      store.setSnapshot(first, 0);
      deltas.forEach((d, i) => assert.equal(store.applyDelta(d, i + 1), 'applied'));
      assert.deepEqual(comparable(store.snapshot!), comparable(last));
      for (const e of last.endpoints) assert.deepEqual(store.endpoint(e.id), e, `index: ${e.id}`);
      assert.equal(store.endpoint('CUSTOM never'), undefined);

      // Deltas folded in random groups.
      const folded = regroup(deltas, r).reduce(applyDelta, stateFromSnapshot(first));
      assert.deepEqual(comparable(folded), comparable(last));

      // What the throttle sends the webview.
      let viaThrottle: FeedState | undefined;
      for (const m of throughThrottle(first, deltas, r)) {
        if (m.type === 'snapshot') viaThrottle = stateFromSnapshot(m.snapshot);
        else if (m.type === 'delta') viaThrottle = applyDelta(viaThrottle!, m.delta);
      }
      assert.deepEqual(comparable(viaThrottle!), comparable(last));

      // The dashboard's state.
      const web = new Store();
      web.applySnapshot('a', first);
      for (const d of deltas) web.applyDelta('a', d);
      assert.deepEqual([...web.endpoints.values()].sort((a, b) => (a.id < b.id ? -1 : 1)), comparable(last).endpoints);
      assert.deepEqual(web.slow, last.slowRequests);
      assert.deepEqual([web.system, web.alerts, web.health, web.rateLimits, web.droppedEndpoints], [last.system, last.alerts, last.health, last.rateLimits, last.droppedEndpoints]);
    });
  }
});

// ---------------------------------------------------------------- random deltas by the rules

function endpoint(id: string, count: number): EndpointStats {
  return { id, method: 'GET', route: `/${id}`, kind: 'route', count, errors: 0, aborted: 0, min: 1, avg: 2, max: 3, p50: 2, p95: 3, p99: 3, statusCodes: {}, rate: 0, lastSeen: 0 } as EndpointStats;
}
let slowSeq = 0;
function slow(): SlowRequest {
  const i = slowSeq++;
  return { requestId: `r${i}`, method: 'GET', route: '/a', path: `/a?${i}`, status: 200, duration: 1000 + i, time: i, severity: 'info' };
}
let eventSeq = 0;
const cacheEvent = (): CacheEvent => ({ kind: 'hit', time: eventSeq++ });

function randomDelta(r: ReturnType<typeof rng>, time: number): Delta {
  const d: Delta = { time };
  const ids = ['A', 'B', 'C', 'D', 'E', 'F'];
  if (r.chance(0.6)) d.endpoints = ids.filter(() => r.chance(0.3)).map((id) => endpoint(id, r.int(1000)));
  if (r.chance(0.3)) d.removedEndpoints = ids.filter(() => r.chance(0.3));
  if (r.chance(0.5)) d.slowRequests = Array.from({ length: r.int(60) }, slow).reverse(); // newest first
  if (r.chance(0.4)) d.cacheEvents = Array.from({ length: r.int(120) }, cacheEvent); // oldest first
  if (r.chance(0.2)) d.droppedCacheEvents = 1 + r.int(5);
  if (r.chance(0.3)) d.droppedEndpoints = r.int(3);
  if (r.chance(0.3)) d.alerts = [];
  if (r.chance(0.2)) d.paused = r.chance(0.5);
  return d;
}

const byId = (s: FeedState) => ({ ...s, endpoints: [...s.endpoints].sort((a, b) => (a.id < b.id ? -1 : 1)) });

describe('change feed rules (protocol/feed.ts)', () => {
  const start = (): FeedState => stateFromSnapshot({ endpoints: [endpoint('A', 1), endpoint('B', 2)], slowRequests: [], alerts: [], time: 0 } as unknown as Snapshot);

  it('mergeDeltas(a, b) applied equals a then b applied, for random deltas (500 pairs)', () => {
    const r = rng(42);
    for (let i = 0; i < 500; i++) {
      let s = start();
      for (let k = r.int(4); k > 0; k--) s = applyDelta(s, randomDelta(r, k));
      const a = randomDelta(r, 10);
      const b = randomDelta(r, 11);
      assert.deepEqual(byId(applyDelta(s, mergeDeltas(a, b))), byId(applyDelta(applyDelta(s, a), b)), `pair ${i}: ${JSON.stringify([a, b])}`);
    }
  });

  it('updateEndpointIndex keeps an id index equal to the endpoints applyDelta holds', () => {
    const r = rng(7);
    let s = start();
    const index = new Map(s.endpoints.map((e) => [e.id, e]));
    for (let i = 0; i < 300; i++) {
      const d = randomDelta(r, i);
      s = applyDelta(s, d);
      updateEndpointIndex(index, d);
      assert.deepEqual([...index.values()].sort((a, b) => (a.id < b.id ? -1 : 1)), byId(s).endpoints, `after delta ${i}`);
    }
  });

  it('an id upserted and removed in one delta stays; touchedEndpoints names both kinds', () => {
    const d: Delta = { time: 1, endpoints: [endpoint('A', 5)], removedEndpoints: ['A', 'B'] };
    assert.deepEqual(applyDelta(start(), d).endpoints.map((e) => [e.id, e.count]), [['A', 5]]);
    assert.deepEqual(touchedEndpoints(d), ['A', 'A', 'B']);
  });

  it('applyDelta shares untouched fields and leaves its input alone', () => {
    const s = start();
    const next = applyDelta(s, { time: 5, alerts: [] });
    assert.equal(next.endpoints, s.endpoints);
    assert.equal(next.slowRequests, s.slowRequests);
    assert.notEqual(next.alerts, s.alerts);
    assert.equal(s.time, 0);
  });

  it('paused: a delta that carries it replaces it, one without it leaves it; mergeDeltas keeps the later', () => {
    const paused = applyDelta(start(), { time: 1, paused: true });
    assert.equal(paused.paused, true);
    assert.equal(applyDelta(paused, { time: 2, alerts: [] }).paused, true);
    assert.equal(applyDelta(paused, { time: 3, paused: false }).paused, false);
    assert.equal(mergeDeltas({ time: 1, paused: true }, { time: 2, paused: false }).paused, false);
    assert.equal(mergeDeltas({ time: 1, paused: true }, { time: 2 }).paused, true);
  });

  it('cache events: oldest first, the newest CACHE_EVENTS_KEPT kept; dropped counts add up', () => {
    let s = start();
    const all: CacheEvent[] = [];
    for (let i = 0; i < 5; i++) {
      const events = Array.from({ length: 90 }, cacheEvent);
      all.push(...events);
      s = applyDelta(s, { time: i, cacheEvents: events, droppedCacheEvents: 2 });
    }
    assert.deepEqual(s.cacheEvents, all.slice(-CACHE_EVENTS_KEPT));
    assert.equal(s.droppedCacheEvents, 10);
  });

  it('a state handed on as a snapshot keeps its cache events; a plain snapshot takes them from carry', () => {
    const s = applyDelta(start(), { time: 1, cacheEvents: [cacheEvent()], droppedCacheEvents: 3 });
    assert.deepEqual(stateFromSnapshot(s).cacheEvents, s.cacheEvents);
    const plain = snapshotOf(s);
    assert.equal('cacheEvents' in plain, false);
    assert.deepEqual(stateFromSnapshot(plain).cacheEvents, []);
    assert.equal(stateFromSnapshot(plain, s).droppedCacheEvents, 3);
  });
});

describe('the newest slow requests survive trimming', () => {
  const full = (): Snapshot =>
    ({ agent: { pid: 1, startedAt: 1 }, endpoints: [], alerts: [], time: 0, slowRequests: Array.from({ length: SLOW_REQUESTS_KEPT }, slow).reverse() }) as unknown as Snapshot;

  it('in the extension store, in mergeDeltas and in the webview state', () => {
    const snap = full();
    const newer = Array.from({ length: 5 }, slow).reverse();
    const expected = [...newer, ...snap.slowRequests].slice(0, SLOW_REQUESTS_KEPT);

    const store = new AgentStore();
    store.setSnapshot(snap, 0);
    // Two deltas: the older three, then the newest two (each newest first).
    store.applyDelta({ time: 1, slowRequests: newer.slice(2) }, 1);
    store.applyDelta({ time: 2, slowRequests: newer.slice(0, 2) }, 2);
    assert.equal(store.snapshot!.slowRequests.length, SLOW_REQUESTS_KEPT);
    assert.deepEqual(store.snapshot!.slowRequests.map((r) => r.requestId), expected.map((r) => r.requestId), 'newest first, the oldest dropped');

    const merged = mergeDeltas({ time: 1, slowRequests: newer.slice(2) }, { time: 2, slowRequests: newer.slice(0, 2) });
    assert.deepEqual(merged.slowRequests, newer);

    const web = new Store();
    web.applySnapshot('a', snap);
    web.applyDelta('a', { time: 1, slowRequests: newer.slice(2) });
    web.applyDelta('a', { time: 2, slowRequests: newer.slice(0, 2) });
    assert.deepEqual(web.slow.map((r) => r.requestId), expected.map((r) => r.requestId));
  });

  it('a resync of the same agent keeps the cache events the store had; another agent starts empty', () => {
    const store = new AgentStore();
    store.setSnapshot(full(), 0);
    store.applyDelta({ time: 1, cacheEvents: [cacheEvent()] }, 1);
    store.setSnapshot(full(), 5);
    assert.equal(store.snapshot!.cacheEvents.length, 1);
    store.setSnapshot({ ...full(), agent: { pid: 2, startedAt: 9 } } as Snapshot, 0);
    assert.equal(store.snapshot!.cacheEvents.length, 0);
  });
});
