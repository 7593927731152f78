import assert from 'node:assert/strict';
import type { CommandName, Delta, HostToWebview, Snapshot, SourceLocation } from '../../../protocol';
import { RouteLensError } from '../../../extension/core/errors';
import { type Clock, DashboardRouter, UpdateThrottle } from '../../../extension/dashboard/router';
import { endpoint } from './helpers';

function host() {
  const h = {
    posted: [] as HostToWebview[],
    requests: [] as Array<{ command: CommandName; args: unknown }>,
    opened: [] as SourceLocation[],
    selected: [] as string[],
    readyCalls: 0,
    logs: [] as string[],
    fail: undefined as Error | undefined,
  };
  const router = new DashboardRouter({
    post: (m) => h.posted.push(m),
    request: async (command, args) => {
      h.requests.push({ command, args });
      if (h.fail) throw h.fail;
      return { removed: 1, dryRun: false };
    },
    endpointLocation: (id) => (id === 'GET /a' ? { file: '/src/a.ts', line: 3, column: 1 } : undefined),
    openLocation: (l) => h.opened.push(l),
    selectAgent: (id) => (id === 'agent-1' ? (h.selected.push(id), true) : false),
    ready: () => h.readyCalls++,
    log: (l) => h.logs.push(l),
  });
  return { h, router };
}

describe('extension DashboardRouter (webview → host messages)', () => {
  it('posts nothing before ready; ready triggers the host to send state', async () => {
    const { h, router } = host();
    assert.equal(router.post({ type: 'showTab', tab: 'cache' }), false);
    await router.receive({ type: 'ready' });
    assert.equal(h.readyCalls, 1);
    assert.equal(router.post({ type: 'showTab', tab: 'cache' }), true);
    assert.equal(h.posted.length, 1);
  });

  it('forwards an allow-listed command with validated args and replies once with its id', async () => {
    const { h, router } = host();
    await router.receive({ type: 'ready' });
    await router.receive({ type: 'command', id: 4, command: 'cache.invalidate', args: { key: 'k' } });
    assert.deepEqual(h.requests, [{ command: 'cache.invalidate', args: { key: 'k' } }]);
    assert.deepEqual(h.posted, [{ type: 'reply', id: 4, ok: true, result: { removed: 1, dryRun: false } }]);
  });

  it('passes the agent error code through in the reply', async () => {
    const { h, router } = host();
    await router.receive({ type: 'ready' });
    h.fail = new RouteLensError('ERR_NOT_FOUND', 'no such alert');
    await router.receive({ type: 'command', id: 5, command: 'alerts.resolve', args: { id: 'x' } });
    assert.deepEqual(h.posted, [{ type: 'reply', id: 5, ok: false, error: { code: 'ERR_NOT_FOUND', message: 'no such alert' } }]);
  });

  it('refuses commands off the allow-list, bad args, __proto__ keys, unknown types and extra keys — nothing reaches the agent', async () => {
    const { h, router } = host();
    await router.receive({ type: 'ready' });
    const bad: unknown[] = [
      { type: 'command', id: 1, command: 'snapshot' },
      { type: 'command', id: 2, command: 'cache.invalidate', args: { key: 'a', pattern: 'b' } },
      JSON.parse('{"type":"command","id":3,"command":"thresholds.set","args":{"thresholds":{"__proto__":{"p95Ms":1}}}}'),
      { type: 'command', id: 4, command: 'reset', args: {}, extra: true },
      { type: 'executeCommand', command: 'workbench.action.terminal.new' },
      { type: 'openFile', path: '/etc/passwd' },
      { type: 'command', id: -1, command: 'reset' },
      null,
      'ready',
      { type: 'selectAgent', agentId: 'x'.repeat(300) },
    ];
    for (const m of bad) await router.receive(m);
    assert.deepEqual(h.requests, []);
    assert.equal(router.stats.rejected, bad.length);
    assert.deepEqual(
      h.posted.map((p) => (p.type === 'reply' ? [p.id, p.ok] : p.type)),
      [[1, false], [2, false], [3, false], [4, false]],
      'malformed commands with a usable id still get their one reply',
    );
    assert.equal(({} as Record<string, unknown>).p95Ms, undefined);
  });

  it('openHandler opens only the location the agent reported for that endpoint', async () => {
    const { h, router } = host();
    await router.receive({ type: 'ready' });
    await router.receive({ type: 'openHandler', endpointId: 'GET /a' });
    await router.receive({ type: 'openHandler', endpointId: 'GET /unknown' });
    await router.receive({ type: 'openHandler', endpointId: 'GET /a', file: '/etc/passwd' });
    assert.deepEqual(h.opened, [{ file: '/src/a.ts', line: 3, column: 1 }]);
  });

  it('selectAgent selects known agents only', async () => {
    const { h, router } = host();
    await router.receive({ type: 'selectAgent', agentId: 'agent-1' });
    await router.receive({ type: 'selectAgent', agentId: 'agent-2' });
    assert.deepEqual(h.selected, ['agent-1']);
  });
});

describe('extension UpdateThrottle', () => {
  function fakeClock() {
    let now = 0;
    const timers: Array<{ at: number; fn: () => void; id: number }> = [];
    let next = 1;
    const clock: Clock = {
      now: () => now,
      setTimeout: (fn, ms) => {
        const t = { at: now + ms, fn, id: next++ };
        timers.push(t);
        return t.id;
      },
      clearTimeout: (id) => {
        const i = timers.findIndex((t) => t.id === id);
        if (i >= 0) timers.splice(i, 1);
      },
    };
    const advance = (ms: number) => {
      now += ms;
      for (const t of timers.filter((x) => x.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    };
    return { clock, advance };
  }

  it('sends at most 4 updates per second, merging deltas in between', () => {
    const { clock, advance } = fakeClock();
    const sent: HostToWebview[] = [];
    const t = new UpdateThrottle((m) => sent.push(m), 250, clock);
    for (let i = 0; i < 100; i++) {
      t.delta('a', { time: i, endpoints: [endpoint({ id: `E${i % 3}`, count: i })] } as Delta);
      advance(10);
    }
    advance(1000);
    assert.ok(sent.length <= 5 && sent.length >= 4, `sent ${sent.length} updates for 1 s of deltas`);
    const last = sent[sent.length - 1];
    assert.equal(last.type, 'delta');
    if (last.type === 'delta') assert.deepEqual(last.delta.endpoints?.map((e) => [e.id, e.count]).sort(), [['E0', 99], ['E1', 97], ['E2', 98]]);
  });

  it('a snapshot replaces pending deltas; later deltas are applied into it', () => {
    const { clock, advance } = fakeClock();
    const sent: HostToWebview[] = [];
    const t = new UpdateThrottle((m) => sent.push(m), 250, clock);
    t.delta('a', { time: 1 });
    const snap = { endpoints: [endpoint({ count: 1 })], slowRequests: [] } as unknown as Snapshot;
    t.delta('a', { time: 2 });
    t.snapshot('a', snap);
    t.delta('a', { time: 3, endpoints: [endpoint({ count: 9 })] });
    advance(300);
    assert.deepEqual(sent.map((m) => m.type), ['delta', 'snapshot']);
    const s = sent[1];
    if (s.type === 'snapshot') assert.equal(s.snapshot.endpoints[0].count, 9);
    t.dispose();
  });
});
