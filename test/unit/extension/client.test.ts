import assert from 'node:assert/strict';
import { AgentClient, endpointFromRecord } from '../../../extension/core/client';
import { readDiscovery } from '../../../extension/core/discovery';
import { type RouteLensError } from '../../../extension/core/errors';
import { FakeAgent } from '../../support/fake-agent';
import { tempDir, waitFor } from './helpers';

describe('extension AgentClient (against a real fake agent)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let agent: FakeAgent;
  const clients: AgentClient[] = [];

  const fromDiscovery = (dir: string) => async () => {
    const [found] = await readDiscovery(dir);
    return found ? endpointFromRecord(found.record) : undefined;
  };
  const makeClient = (opts: Partial<ConstructorParameters<typeof AgentClient>[0]> = {}) => {
    const c = new AgentClient({ resolve: fromDiscovery(tmp.dir), initialDelayMs: 5, maxDelayMs: 40, pingIntervalMs: 1000, ...opts });
    clients.push(c);
    c.start();
    return c;
  };

  beforeEach(async () => {
    tmp = tempDir();
    agent = await FakeAgent.start({
      dir: tmp.dir,
      routes: [{ method: 'GET', route: '/users/:id' }, { method: 'POST', route: '/orders' }],
      cache: [{ key: 'user:1' }, { key: 'user:2' }, { key: 'order:1', namespace: 'orders', tags: ['o'] }],
    });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.dispose();
    await agent.stop();
    tmp.cleanup();
  });

  it('connects with the bearer token and no Origin, and merges snapshot + deltas into its store', async () => {
    const c = makeClient();
    await waitFor(() => c.state === 'connected', 'connected');
    assert.equal(c.store.snapshot?.endpoints.length, 2);
    agent.hit('GET /users/:id', 40);
    agent.hit('GET /users/:id', 80);
    await waitFor(() => c.store.endpoint('GET /users/:id')?.count === 2, 'delta merged');
    assert.equal(c.store.endpoint('GET /users/:id')?.max, 80);
    assert.equal(c.store.endpoint('POST /orders')?.count, 0, 'untouched endpoint kept from the snapshot');
    assert.equal(agent.refused, 0);
  });

  it('keeps two agents\' figures apart (one store per connection)', async () => {
    const tmp2 = tempDir();
    const other = await FakeAgent.start({ dir: tmp2.dir, name: 'other', routes: [{ method: 'GET', route: '/other' }] });
    try {
      const a = makeClient();
      const b = makeClient({ resolve: fromDiscovery(tmp2.dir) });
      await waitFor(() => a.state === 'connected' && b.state === 'connected', 'both connected');
      other.hit('GET /other', 5);
      await waitFor(() => b.store.endpoint('GET /other')?.count === 1, 'b delta');
      assert.equal(a.store.endpoint('GET /other'), undefined);
      assert.deepEqual(a.store.snapshot?.endpoints.map((e) => e.id).sort(), ['GET /users/:id', 'POST /orders']);
    } finally {
      await other.stop();
      tmp2.cleanup();
    }
  });

  it('a fresh snapshot mid-stream (slow-client resync) replaces the store; gaps are counted, stale deltas ignored', async () => {
    const c = makeClient();
    await waitFor(() => c.state === 'connected', 'connected');
    const snapshots: number[] = [];
    c.onSnapshot((s) => snapshots.push(s.endpoints.length));
    agent.routes.set('GET /new', { method: 'GET', route: '/new' });
    agent.resync();
    await waitFor(() => c.store.endpoint('GET /new'), 'resynced');
    assert.deepEqual(snapshots, [3]);
    agent.skipSeq(5);
    agent.hit('POST /orders', 3);
    await waitFor(() => c.store.endpoint('POST /orders')?.count === 1, 'delta after a gap applied');
    assert.equal(c.stats().sequenceGaps, 1);
    agent.sendRaw(JSON.stringify({ type: 'delta', seq: 1, delta: { time: 0, endpoints: [{ ...c.store.endpoint('POST /orders'), count: 999 }] } }));
    agent.sendRaw('{not json');
    agent.sendRaw(JSON.stringify({ type: 'mystery' }));
    agent.sendRaw(JSON.stringify({ type: 'reply', id: 12345, ok: true, result: 1 }));
    agent.hit('GET /users/:id', 1);
    await waitFor(() => c.store.endpoint('GET /users/:id')?.count === 1, 'later delta');
    assert.equal(c.store.endpoint('POST /orders')?.count, 1, 'the stale delta was ignored');
    assert.equal(c.state, 'connected', 'bad input does not break the connection');
  });

  it('request() gets exactly one answer per id and deletes the entry; errors carry the agent code', async () => {
    const c = makeClient();
    await waitFor(() => c.state === 'connected', 'connected');
    const [r1, r2] = await Promise.all([c.request('cache.invalidate', { key: 'user:1' }), c.request('cache.keys', {})]);
    assert.deepEqual(r1, { removed: 1, dryRun: false });
    assert.ok(Array.isArray(r2.keys));
    assert.equal(agent.cache.has('user:1'), false, 'the key is gone on the agent');
    await assert.rejects(c.request('alerts.resolve', { id: 'nope' }), (e: RouteLensError) => e.code === 'ERR_NOT_FOUND');
    assert.equal(c.stats().pending, 0);
  });

  it('request() times out and forgets the entry when the agent never answers', async () => {
    const c = makeClient();
    await waitFor(() => c.state === 'connected', 'connected');
    agent.silent = true;
    await assert.rejects(c.request('cache.keys', {}, 100), (e: RouteLensError) => e.code === 'RL_ERR_TIMEOUT');
    assert.equal(c.stats().pending, 0);
  });

  it('request() rejects RL_ERR_BAD_REPLY when the agent answers an error without a code', async () => {
    const c = makeClient();
    await waitFor(() => c.state === 'connected', 'connected');
    agent.silent = true;
    const p = c.request('cache.keys', {}, 5000);
    // Request ids count from 1: answer the first few with an error that carries no code.
    for (let id = 1; id <= 5; id++) agent.sendRaw(JSON.stringify({ type: 'reply', id, ok: false, error: { message: 'no code' } }));
    await assert.rejects(p, (e: RouteLensError) => e.code === 'RL_ERR_BAD_REPLY');
    assert.equal(c.stats().pending, 0);
  });

  it('rejects pending requests when the socket closes, and refuses requests while disconnected', async () => {
    const c = makeClient();
    await waitFor(() => c.state === 'connected', 'connected');
    agent.silent = true;
    const p = c.request('cache.keys', {}, 5000);
    agent.dropClients();
    await assert.rejects(p, (e: RouteLensError) => e.code === 'RL_ERR_CLOSED');
    await assert.rejects(c.request('cache.keys', {}), (e: RouteLensError) => e.code === 'RL_ERR_NOT_CONNECTED');
  });

  it('reconnects after the agent restarts on a new port and token (discovery re-read) and resyncs', async () => {
    const c = makeClient();
    await waitFor(() => c.state === 'connected', 'connected');
    const oldPort = agent.port;
    agent.hit('GET /users/:id', 10);
    await agent.restart();
    assert.notEqual(agent.port, oldPort);
    await waitFor(() => c.state === 'connected' && c.endpoint?.url === agent.url, 'reconnected to the new port');
    assert.equal(c.endpoint?.token, agent.token);
    assert.equal(c.store.snapshot?.agent.startedAt, agent.startedAt, 'resynced from the new snapshot');
    assert.equal(c.store.endpoint('GET /users/:id')?.count, 1);
  });

  it('after 50 agent restarts holds exactly one socket and one set of timers', async function () {
    this.timeout(60_000);
    const c = makeClient();
    await waitFor(() => c.state === 'connected', 'connected');
    for (let i = 0; i < 50; i++) {
      await agent.restart();
      if (i % 10 === 9) await waitFor(() => c.state === 'connected' && c.endpoint?.url === agent.url, `reconnect ${i}`);
    }
    await waitFor(() => c.state === 'connected' && c.endpoint?.url === agent.url, 'final reconnect');
    await waitFor(() => agent.clientCount() === 1, 'one client on the agent');
    const s = c.stats();
    assert.equal(s.sockets, 1);
    assert.equal(s.timers, 1, 'only the ping timer is live');
    assert.equal(s.pending, 0);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(agent.clientCount(), 1, 'no duplicate connection appears later');
  });

  it('drops a half-open agent (no pong, no data) within two ping intervals', async () => {
    const c = makeClient({ pingIntervalMs: 150, handshakeTimeoutMs: 500 });
    await waitFor(() => c.state === 'connected', 'connected');
    agent.silent = true;
    const t0 = Date.now();
    await waitFor(() => c.state === 'reconnecting', 'dropped', 5000);
    assert.ok(Date.now() - t0 < 150 * 2 + 400, `dropped after ${Date.now() - t0} ms`);
    agent.silent = false;
    await waitFor(() => c.state === 'connected', 'reconnected after the peer answered again');
  });

  it('is refused with a wrong token and keeps retrying with backoff, never connected', async () => {
    const c = makeClient({ resolve: () => ({ url: agent.url, token: 'x'.repeat(32) }) });
    await waitFor(() => agent.refused >= 2, 'refused twice');
    assert.notEqual(c.state, 'connected');
    assert.equal(agent.clientCount(), 0);
  });

  it('backoff grows exponentially up to maxDelayMs, with jitter', async () => {
    const delays: number[] = [];
    const c = new AgentClient({
      resolve: () => undefined,
      initialDelayMs: 100,
      maxDelayMs: 1000,
      jitter: 0.5,
      random: () => 1,
      timers: {
        setTimeout: (fn, ms) => {
          delays.push(ms);
          if (delays.length < 8) setImmediate(fn);
          return delays.length;
        },
        clearTimeout: () => undefined,
      },
    });
    clients.push(c);
    c.start();
    await waitFor(() => delays.length >= 8, 'eight attempts');
    assert.deepEqual(delays.slice(0, 6), [50, 100, 200, 400, 500, 500]);
  });

  it('dispose() closes the socket, clears every timer and rejects pending requests', async () => {
    const c = makeClient();
    await waitFor(() => c.state === 'connected', 'connected');
    agent.silent = true;
    const p = c.request('cache.keys', {}, 5000);
    c.dispose();
    await assert.rejects(p, (e: RouteLensError) => e.code === 'RL_ERR_DISPOSED');
    assert.deepEqual([c.stats().sockets, c.stats().timers], [0, 0]);
    await waitFor(() => agent.clientCount() === 0, 'agent sees the socket closed');
  });
});
