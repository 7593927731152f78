import assert from 'node:assert/strict';
import { agentKey, readDiscovery } from '../../../extension/core/discovery';
import { AgentManager, type ManagerEvent } from '../../../extension/core/manager';
import { FakeAgent } from '../../support/fake-agent';
import { tempDir, waitFor } from './helpers';

describe('extension AgentManager', () => {
  let tmp: ReturnType<typeof tempDir>;
  let a: FakeAgent;
  let b: FakeAgent;
  let m: AgentManager;
  const events: ManagerEvent[] = [];

  beforeEach(async () => {
    tmp = tempDir();
    a = await FakeAgent.start({ dir: tmp.dir, name: 'a', routes: [{ method: 'GET', route: '/a' }] });
    b = await FakeAgent.start({ dir: tmp.dir, name: 'b', pid: process.ppid, routes: [{ method: 'GET', route: '/b' }] });
    m = new AgentManager({ discovered: () => [], rescan: () => readDiscovery(tmp.dir), client: { initialDelayMs: 5, maxDelayMs: 40 } });
    events.length = 0;
    m.onEvent((e) => events.push(e));
  });
  afterEach(async () => {
    m.dispose();
    await a.stop();
    await b.stop();
    tmp.cleanup();
  });

  it('auto-connects every discovered agent once, selects the first, keeps stores apart', async () => {
    const found = await readDiscovery(tmp.dir);
    m.autoConnect(found);
    m.autoConnect(found);
    assert.equal(m.all.length, 2);
    await waitFor(() => m.all.every((c) => c.client.state === 'connected'), 'both connected');
    assert.equal(a.clientCount() + b.clientCount(), 2);
    assert.ok(m.selected);
    assert.deepEqual(m.get(agentKey(a.record))?.client.store.snapshot?.endpoints.map((e) => e.id), ['GET /a']);
    assert.deepEqual(m.get(agentKey(b.record))?.client.store.snapshot?.endpoints.map((e) => e.id), ['GET /b']);
    assert.ok(events.some((e) => e.kind === 'snapshot'));
  });

  it('disconnect closes the socket, moves the selection, and auto-connect leaves that agent alone until connected again', async () => {
    const found = await readDiscovery(tmp.dir);
    m.autoConnect(found);
    await waitFor(() => a.clientCount() === 1 && b.clientCount() === 1, 'connected');
    const idA = agentKey(a.record);
    m.select(idA);
    assert.equal(m.disconnect(idA), true);
    await waitFor(() => a.clientCount() === 0, 'socket closed');
    assert.equal(m.selected?.id, agentKey(b.record));
    m.autoConnect(found);
    assert.equal(m.get(idA), undefined, 'opted out');
    m.connectDiscovered(found.find((f) => f.key === idA)!);
    await waitFor(() => a.clientCount() === 1, 'reconnected on request');
  });

  it('select() refuses unknown ids', () => {
    assert.equal(m.select('nope'), false);
  });
});
