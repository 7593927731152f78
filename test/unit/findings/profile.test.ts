/** A route profile kept to the route's stacks (keepRoute), on a constructed .cpuprofile; and the time limit of profile.start. */
import assert from 'node:assert/strict';
import type { AgentHost } from '../../../agent/internal';
import { type CpuProfile, keepRoute } from '../../../agent/profile';
import { runCommand } from '../../../agent/server/command';

const frame = (functionName: string, lineNumber = -1) => ({ functionName, scriptId: '1', url: lineNumber < 0 ? '' : 'file:///app/routes.js', lineNumber, columnNumber: 0 });

/**
 * root ─┬─ handlerA ── work      (A's route)
 *       ├─ handlerB ── work      (B's route)
 *       └─ (idle)
 */
function profile(): CpuProfile {
  return {
    nodes: [
      { id: 1, callFrame: frame('(root)'), hitCount: 0, children: [2, 4, 6] },
      { id: 2, callFrame: frame('handlerA', 10), hitCount: 1, children: [3] },
      { id: 3, callFrame: frame('work', 30), hitCount: 3 },
      { id: 4, callFrame: frame('handlerB', 20), hitCount: 0, children: [5] },
      { id: 5, callFrame: frame('work', 30), hitCount: 2 },
      { id: 6, callFrame: frame('(idle)'), hitCount: 2 },
    ],
    startTime: 1000,
    endTime: 9000,
    samples: [3, 5, 6, 3, 2, 5, 6, 3],
    timeDeltas: [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  };
}

describe('route profiles: keepRoute', () => {
  it("keeps the samples whose stacks pass through the route's frames, the nodes on their stacks, consistent counts and times", () => {
    const { kept, top } = keepRoute(profile(), (f) => f.functionName === 'handlerA');
    assert.deepEqual(kept.samples, [3, 3, 2, 3]);
    assert.equal(kept.timeDeltas.length, kept.samples.length);
    assert.equal(kept.startTime, 1000);
    assert.equal(kept.endTime, 5000, 'the kept time, end to end');
    assert.deepEqual(
      kept.nodes.map((n) => [n.id, n.callFrame.functionName, n.hitCount, n.children]),
      [
        [1, '(root)', 0, [2]],
        [2, 'handlerA', 1, [3]],
        [3, 'work', 3, []],
      ],
    );
    assert.deepEqual(
      top.map((f) => [f.functionName, f.selfMs, f.share]),
      [
        ['work', 3, 0.75],
        ['handlerA', 1, 0.25],
      ],
    );
    assert.deepEqual(top[0]!.location, { file: '/app/routes.js', line: 31, column: 1 });
  });

  it('keeps nothing when no stack passes through the route', () => {
    const { kept, top } = keepRoute(profile(), () => false);
    assert.deepEqual([kept.samples, kept.timeDeltas, kept.nodes, top], [[], [], [], []]);
    assert.equal(kept.endTime, kept.startTime);
  });
});

describe('profile.start: its time limit', () => {
  it('is the command limit plus the profile seconds; other commands keep the limit', async () => {
    const slow = (ms: number) => new Promise((r) => setTimeout(() => r({ done: ms }), ms));
    const host = { execute: () => slow(150) } as unknown as AgentHost;
    const profiled = await runCommand(host, 'profile.start', { endpoint: 'GET /a', seconds: 1 }, 'editor', 50);
    assert.deepEqual(profiled, { ok: true, result: { done: 150 } });
    const other = await runCommand(host, 'snapshot', {}, 'editor', 50);
    assert.equal(other.ok ? 'ok' : other.error.code, 'ERR_TIMEOUT');
  });
});
