import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readDiscovery } from '../../../extension/core/discovery';
import { currentUid } from '../../../cli/core/discover';
import { NoAgentError, pickAgent } from '../../../cli/core/source';
import { tempDir } from '../extension/helpers';

const record = (pid: number, name: string) => ({ pid, port: 4000 + pid, host: '127.0.0.1', token: 't'.repeat(32), cwd: '/app', name, version: '1', protocolVersion: 1, startedAt: pid });

describe('command-line discovery', () => {
  it('with ownerUid, reads only regular files that uid owns (no symlinks)', async function () {
    if (process.platform === 'win32') this.skip();
    const { dir, cleanup } = tempDir();
    const other = tempDir();
    try {
      writeFileSync(join(dir, `agent-${process.pid}.json`), JSON.stringify(record(process.pid, 'mine')));
      writeFileSync(join(other.dir, 'real.json'), JSON.stringify(record(process.ppid, 'linked')));
      symlinkSync(join(other.dir, 'real.json'), join(dir, `agent-${process.ppid}.json`));
      const alive = { isAlive: () => true, isReused: () => false, removeDead: false };
      assert.deepEqual((await readDiscovery(dir, alive)).map((a) => a.record.name).sort(), ['linked', 'mine'], 'without ownerUid: unchanged behaviour');
      assert.deepEqual((await readDiscovery(dir, { ...alive, ownerUid: currentUid() })).map((a) => a.record.name), ['mine']);
      assert.deepEqual(await readDiscovery(dir, { ...alive, ownerUid: currentUid() + 1 }), []);
    } finally {
      cleanup();
      other.cleanup();
    }
  });

  it('pickAgent: newest by default, by pid, by name; a clear error otherwise', () => {
    const agents = [record(3, 'shop'), record(2, 'Billing')];
    assert.equal(pickAgent(agents).pid, 3);
    assert.equal(pickAgent(agents, '2').name, 'Billing');
    assert.equal(pickAgent(agents, 'billing').pid, 2);
    assert.throws(() => pickAgent(agents, 'nope'), (e: unknown) => e instanceof NoAgentError && JSON.stringify(e.data).includes('"shop"'));
    assert.throws(() => pickAgent([]), /No RouteLens agent is running/);
  });
});
