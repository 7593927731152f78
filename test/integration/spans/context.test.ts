/**
 * Which requests enter a request context while spans are recorded (agent/context.ts): only those
 * the sampler traces, decided at the request's start from its route, and the AsyncLocalStorage
 * is off whenever no traced request is in flight (on Node 20 it hooks every promise of every
 * request while it is on). Observed in the handlers of a real Express app: whether a context is
 * current, and whether a promise made there carries a store (the storage's hook ran for it).
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import express from 'express';
import { type Agent, createAgent } from '../../../agent';
import { requestContext, resetContextForTests } from '../../../agent/context';
import type { Trace } from '../../../protocol';
import { type Served, serve, sleep } from './helpers';

/** How many AsyncLocalStorage stores a new promise carries: each enabled storage's hook gives it one. */
const storesOnAPromise = (): number => Object.getOwnPropertySymbols(new Promise(() => {})).filter((s) => s.description === 'kResourceStore').length;

interface Seen {
  id: string;
  /** The request's context was current in the handler, before and after an await. */
  before: boolean;
  after: boolean;
  /** The route the context carried after the await. */
  route: string | undefined;
  /** A promise made in the handler carried this many stores. */
  stores: number;
}

describe('request contexts while spans are recorded', function () {
  this.timeout(30_000);
  let agent: Agent;
  let app: Served;
  let baseline: number;
  const traces: Trace[] = [];
  const seen: Seen[] = [];
  let release: (() => void) | undefined;

  before(async () => {
    resetContextForTests();
    await sleep(5); // the storage's hooks go off a microtask after it is disabled
    baseline = storesOnAPromise();
    agent = createAgent({ name: 'context-test', express, discoveryDir: false, server: false, logger: false, spans: { sample: 0.001 } });
    agent.spans!.onTrace((t) => traces.push(t));
    const a = express();
    a.use(agent.middleware());
    const look = async (id: string, wait?: Promise<void>): Promise<void> => {
      const before = requestContext.getStore() !== undefined;
      const stores = storesOnAPromise();
      await (wait ?? new Promise<void>((r) => setImmediate(r)));
      const ctx = requestContext.getStore();
      seen.push({ id, before, after: ctx !== undefined, route: ctx?.route, stores });
    };
    a.get('/items/:id', async (req, res) => {
      await look(req.params.id);
      res.json({ ok: true });
    });
    a.get('/held/:id', async (req, res) => {
      await look(req.params.id, new Promise<void>((r) => (release = r)));
      res.json({ ok: true });
    });
    a.use(async (req, res) => {
      await look(req.path);
      res.status(404).end();
    });
    app = await serve(a as unknown as http.RequestListener);
  });

  after(async () => {
    await app?.close();
    await agent?.close();
    resetContextForTests();
  });

  beforeEach(() => {
    seen.length = 0;
    traces.length = 0;
  });

  it('only the requests the sampler traces run in a context; between them the storage is off', async () => {
    for (let i = 1; i <= 30; i++) assert.equal((await fetch(`${app.url}/items/${i}`)).status, 200);
    await sleep(20);
    const entered = seen.filter((s) => s.before);
    // The first 20 of a route, then one token (0.001 a second adds no other).
    assert.deepEqual(
      entered.map((s) => s.id),
      Array.from({ length: 21 }, (_, i) => String(i + 1)),
    );
    assert.deepEqual(traces.map((t) => t.route).filter((r) => r === '/items/:id').length, 21);
    for (const s of entered) assert.deepEqual([s.after, s.route], [true, '/items/:id'], `request ${s.id} keeps its context through an await`);
    for (const s of seen.slice(21)) {
      assert.deepEqual([s.before, s.after, s.stores], [false, false, baseline], `request ${s.id} runs with the storage off`);
    }
    assert.equal(storesOnAPromise(), baseline);
  });

  it('a traced request in flight keeps its context while untraced requests run beside it without one', async () => {
    const held = fetch(`${app.url}/held/1`); // the route's first request: traced
    while (release === undefined) await sleep(2);
    for (let i = 31; i <= 35; i++) assert.equal((await fetch(`${app.url}/items/${i}`)).status, 200);
    const beside = seen.filter((s) => s.id !== '1');
    assert.equal(beside.length, 5);
    for (const s of beside) assert.deepEqual([s.before, s.after], [false, false], `request ${s.id} beside the traced one has no context`);
    release();
    assert.equal((await held).status, 200);
    const traced = seen.find((s) => s.id === '1')!;
    assert.deepEqual([traced.before, traced.after, traced.route], [true, true, '/held/:id']);
    await sleep(20);
    assert.equal(storesOnAPromise(), baseline, 'the storage is off once the traced request ended');
  });

  it('requests no route matches are traced by a sampling of their own, decided by what answers them', async () => {
    for (let i = 1; i <= 25; i++) assert.equal((await fetch(`${app.url}/nowhere/${i}`)).status, 404);
    await sleep(20);
    const entered = seen.filter((s) => s.before).map((s) => s.id);
    assert.deepEqual(
      entered,
      Array.from({ length: 21 }, (_, i) => `/nowhere/${i + 1}`),
    );
    for (const s of seen.filter((x) => !x.before)) assert.equal(s.stores, baseline);
  });
});
