/**
 * The change feed of a real agent (createAgent, a real Express app, a real
 * WebSocket client): a delta goes out only when something moved, system
 * figures once per process sample, slow requests newest first and bounded.
 */
import assert from 'node:assert/strict';
import type { AddressInfo, Server } from 'node:net';
import express from 'express';
import { createAgent } from '../../../agent';
import type { Agent } from '../../../agent/agent';
import type { AgentMessage, Delta, SlowRequest } from '../../../protocol';
import { SLOW_REQUESTS_KEPT, applyDelta, stateFromSnapshot } from '../../../protocol/feed';
import { Client, isType, sleep, until } from './helpers';

type DeltaMessage = Extract<AgentMessage, { type: 'delta' }>;

/** Thresholds no idle test process reaches, so no alert can fire during a test. */
const CALM = { eventLoopDelayMs: 60_000, heapPercent: 1, p95Ms: 60_000, errorRate: 1 };

interface Running {
  agent: Agent;
  appUrl: string;
  client: Client;
  pings: number;
  deltas(): Delta[];
}

const running: Array<{ agent: Agent; app: Server; client?: Client }> = [];

async function start(options: Record<string, unknown>, routes: (app: express.Express) => void): Promise<Running> {
  const agent = createAgent({ express, discoveryDir: false, cache: false, ...options } as Parameters<typeof createAgent>[0]) as Agent;
  const app = express();
  app.use(agent.middleware());
  routes(app);
  const server: Server = app.listen(0, '127.0.0.1');
  const entry: (typeof running)[number] = { agent, app: server };
  running.push(entry);
  await new Promise((r) => server.once('listening', r));
  const ready = await agent.ready();
  assert.ok(ready, 'the agent listens');
  const client = new Client(`ws://127.0.0.1:${ready.port}/v1/stream`, { Authorization: `Bearer ${ready.token}` });
  entry.client = client;
  const out: Running = {
    agent,
    appUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    client,
    pings: 0,
    deltas: () => client.messages.filter((m): m is DeltaMessage => m.type === 'delta').map((m) => m.delta),
  };
  client.ws.on('ping', () => out.pings++);
  await client.next(isType('snapshot'));
  return out;
}

/** The fields a delta carries besides `time`. */
const fields = (d: Delta): string[] =>
  Object.keys(d)
    .filter((k) => k !== 'time')
    .sort();

/** Waits until the wall clock is `from`–`to` ms into a 10 s window slot, so a test's few seconds do not cross a slot boundary. */
async function earlyInWindowSlot(from: number, to: number): Promise<void> {
  while (Date.now() % 10_000 < from || Date.now() % 10_000 >= to) await sleep(50);
}

describe('the change feed of a real agent', () => {
  afterEach(async () => {
    for (const { agent, app, client } of running.splice(0)) {
      client?.ws.terminate();
      await agent.close();
      app.close();
    }
  });

  it('an idle agent with a client attached sends nothing but pings and one system delta per system sample for 10 s', async function () {
    this.timeout(30_000);
    const r = await start({ batchMs: 250, systemMs: 1000, heartbeatMs: 2000, evaluateMs: 500, thresholds: CALM }, () => {});
    const from = r.client.messages.length;
    await sleep(10_000);
    const messages = r.client.messages.slice(from);
    assert.deepEqual([...new Set(messages.map((m) => m.type))].filter((t) => t !== 'delta'), [], 'only deltas after the snapshot');
    const deltas = r.deltas();
    for (const d of deltas) assert.deepEqual(fields(d), ['system'], `an idle delta carries only system figures: ${JSON.stringify(fields(d))}`);
    // One per 1 s sample: 10 ± timer jitter on a loaded machine; a delta per 250 ms tick would be 40.
    assert.ok(deltas.length >= 7 && deltas.length <= 12, `${deltas.length} deltas in 10 s`);
    const times = deltas.map((d) => d.system!.time);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 500, `system figures ${times[i]! - times[i - 1]!} ms apart`);
    assert.ok(r.pings >= 3, `${r.pings} heartbeats`);
  });

  it('sends one delta with the endpoint after one request, then nothing but system figures', async function () {
    this.timeout(30_000);
    const r = await start({ batchMs: 100, systemMs: 1000, thresholds: CALM }, (app) => {
      app.get('/users/:id', (req, res) => {
        res.json({ id: req.params.id });
      });
    });
    await earlyInWindowSlot(500, 4000);
    const before = r.deltas().length;
    await fetch(`${r.appUrl}/users/7`).then((res) => res.text());
    await sleep(4000);
    const after = r.deltas().slice(before);
    const withEndpoints = after.filter((d) => d.endpoints);
    assert.equal(withEndpoints.length, 1, `deltas with endpoints: ${JSON.stringify(withEndpoints.map((d) => d.endpoints!.map((e) => [e.id, e.count])))}`);
    assert.deepEqual(withEndpoints[0]!.endpoints!.map((e) => [e.id, e.count]), [['GET /users/:id', 1]]);
    for (const d of after) assert.deepEqual(fields(d).filter((f) => f !== 'system' && f !== 'endpoints'), [], `only the endpoint and system figures moved: ${fields(d)}`);
    assert.ok(after.length <= 4 + 3, `${after.length} deltas in 4 s at a 100 ms batch`);
  });

  it('sends slow requests newest first and at most SLOW_REQUESTS_KEPT, in the snapshot and in deltas', async function () {
    this.timeout(60_000);
    const r = await start({ batchMs: 1000, thresholds: { ...CALM, slowMs: { info: 0.001, warning: 60_000, critical: 120_000 } } }, (app) => {
      app.get('/slow/:n', (_req, res) => {
        res.send('ok');
      });
    });
    const get = (n: number) => fetch(`${r.appUrl}/slow/${n}`).then((res) => res.text());
    for (let n = 0; n < SLOW_REQUESTS_KEPT + 30; n++) await get(n);
    // A second client sees them in its snapshot.
    const ready = (await r.agent.ready())!;
    const late = new Client(`ws://127.0.0.1:${ready.port}/v1/stream`, { Authorization: `Bearer ${ready.token}` });
    try {
      const snapshot = (await late.next(isType('snapshot'))).snapshot;
      const paths = (list: SlowRequest[]) => list.map((s) => Number(s.path.slice('/slow/'.length)));
      const expected = (newest: number) => Array.from({ length: SLOW_REQUESTS_KEPT }, (_, i) => newest - i);
      assert.deepEqual(paths(snapshot.slowRequests), expected(SLOW_REQUESTS_KEPT + 29), 'the snapshot: the newest 100, newest first');
      let state = stateFromSnapshot(snapshot);
      const from = late.messages.length;
      for (let n = SLOW_REQUESTS_KEPT + 30; n < 2 * SLOW_REQUESTS_KEPT + 60; n++) await get(n);
      const last = 2 * SLOW_REQUESTS_KEPT + 59;
      await until(() => late.messages.slice(from).some((m) => m.type === 'delta' && m.delta.slowRequests?.some((s) => s.path === `/slow/${last}`)), 10_000);
      for (const m of late.messages.slice(from)) {
        if (m.type !== 'delta' || !m.delta.slowRequests) continue;
        const got = paths(m.delta.slowRequests);
        assert.ok(got.length <= SLOW_REQUESTS_KEPT, `${got.length} slow requests in one delta`);
        assert.deepEqual(got, [...got].sort((a, b) => b - a), 'a delta lists them newest first');
        state = applyDelta(state, m.delta);
      }
      assert.deepEqual(paths(state.slowRequests), expected(last), 'applied to the snapshot: the newest 100 survive, newest first');
    } finally {
      late.ws.terminate();
    }
  });
});
