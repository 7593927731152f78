import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROTOCOL_VERSION, discoveryFileName } from '../../../protocol';
import { DiscoveryWatcher, filterByWorkspace, mapRemotePath, newestPerKey, readDiscovery, resolveDiscoveryDir, resolvePathMappings } from '../../../extension/core/discovery';
import { tempDir, waitFor } from './helpers';

const record = (over: Record<string, unknown> = {}) => ({
  pid: process.pid,
  port: 4321,
  host: '127.0.0.1',
  token: 't'.repeat(32),
  cwd: '/home/me/app',
  name: 'app',
  version: '1.0.0',
  protocolVersion: PROTOCOL_VERSION,
  startedAt: Date.now(),
  ...over,
});

describe('extension discovery', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.cleanup());

  const write = (pid: number, content: unknown) => writeFileSync(join(tmp.dir, discoveryFileName(pid)), typeof content === 'string' ? content : JSON.stringify(content));

  it('readDiscovery returns live, valid records and ignores dead pids, malformed files, newer protocols and other names', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    write(process.pid, record());
    write(deadPid, record({ pid: deadPid, name: 'dead' }));
    write(1000001, '{not json');
    write(1000002, record({ pid: 1000002, token: 'short' }));
    write(process.ppid, record({ pid: process.ppid, protocolVersion: PROTOCOL_VERSION + 1, name: 'future' }));
    writeFileSync(join(tmp.dir, 'notes.json'), JSON.stringify(record({ name: 'other-file' })));
    const logs: string[] = [];
    const found = await readDiscovery(tmp.dir, { log: (l) => logs.push(l) });
    assert.deepEqual(found.map((f) => f.record.name), ['app']);
    assert.equal(found[0].key, 'app@/home/me/app');
    assert.ok(logs.some((l) => /not running/.test(l)) && logs.some((l) => /malformed/.test(l)) && logs.some((l) => /newer/.test(l)));
  });

  it('readDiscovery deletes the file of an agent whose process is gone (an app that was killed), and keeps the others', async () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    write(process.pid, record());
    write(deadPid, record({ pid: deadPid, name: 'dead' }));
    const logs: string[] = [];
    await readDiscovery(tmp.dir, { log: (l) => logs.push(l) });
    assert.deepEqual(readdirSync(tmp.dir).sort(), [discoveryFileName(process.pid)]);
    assert.ok(logs.some((l) => l.startsWith(`discovery: removed ${discoveryFileName(deadPid)}`)), logs.join('\n'));

    write(deadPid, record({ pid: deadPid, name: 'dead' }));
    await readDiscovery(tmp.dir, { removeDead: false });
    assert.equal(readdirSync(tmp.dir).length, 2, 'removeDead: false only ignores it');
  });

  it('readDiscovery ignores a stale record whose pid now belongs to a newer process', async () => {
    write(process.pid, record({ startedAt: Date.now() - 10 * 365 * 86_400_000 }));
    const found = await readDiscovery(tmp.dir);
    assert.equal(found.length, process.platform === 'linux' ? 0 : 1);
  });

  it('a missing directory means no agents, not an error', async () => {
    assert.deepEqual(await readDiscovery(join(tmp.dir, 'nope')), []);
  });

  it('resolveDiscoveryDir: setting override, then ROUTELENS_DISCOVERY_DIR, then XDG_RUNTIME_DIR', () => {
    assert.equal(resolveDiscoveryDir('/x', { ROUTELENS_DISCOVERY_DIR: '/y' }), '/x');
    assert.equal(resolveDiscoveryDir('', { ROUTELENS_DISCOVERY_DIR: '/y' }), '/y');
    assert.equal(resolveDiscoveryDir(undefined, { XDG_RUNTIME_DIR: '/run/user/1' }), '/run/user/1/routelens');
  });

  it('path mappings: ${workspaceFolder} expanded, longest prefix wins, only whole segments map', () => {
    const m = resolvePathMappings({ '/app': '${workspaceFolder}', '/app/api/': '/src/api', bad: 3 }, '/home/me/shop');
    assert.equal(mapRemotePath('/app/api/users.ts', m), '/src/api/users.ts');
    assert.equal(mapRemotePath('/app/server.js', m), '/home/me/shop/server.js');
    assert.equal(mapRemotePath('/application/x.js', m), '/application/x.js');
    assert.deepEqual(resolvePathMappings({ '/app': '${workspaceFolder}' }, undefined), []);
  });

  it('filterByWorkspace keeps agents whose (mapped) cwd is inside a folder', () => {
    const agents = [record({ cwd: '/home/me/shop/api', name: 'a' }), record({ cwd: '/app', name: 'b' }), record({ cwd: '/home/me/other', name: 'c' }), record({ cwd: '/home/me/shopping', name: 'd' })].map((r) => ({ key: `${r.name}@${r.cwd}`, file: '', record: r }));
    const m = resolvePathMappings({ '/app': '${workspaceFolder}' }, '/home/me/shop');
    assert.deepEqual(filterByWorkspace(agents, ['/home/me/shop'], m).map((a) => a.record.name), ['a', 'b']);
    assert.equal(filterByWorkspace(agents, [], m).length, 4, 'no folder open: all');
  });

  it('newestPerKey keeps the latest start of the same app', () => {
    const a = { key: 'k', file: 'a', record: record({ startedAt: 1 }) };
    const b = { key: 'k', file: 'b', record: record({ startedAt: 2 }) };
    assert.deepEqual(newestPerKey([a, b]).map((x) => x.file), ['b']);
  });

  it('DiscoveryWatcher reports files appearing and disappearing, and close() stops it', async () => {
    const w = new DiscoveryWatcher(tmp.dir, { pollMs: 200, debounceMs: 20 });
    const seen: number[] = [];
    w.onChange((list) => seen.push(list.length));
    w.start();
    write(process.pid, record());
    await waitFor(() => w.current.length === 1, 'file seen');
    await w.rescan();
    const { rmSync } = await import('node:fs');
    rmSync(join(tmp.dir, discoveryFileName(process.pid)));
    await waitFor(() => w.current.length === 0, 'file gone');
    w.close();
    write(process.pid, record());
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(w.current.length, 0, 'closed watcher does not rescan');
    assert.ok(seen.includes(1) && seen[seen.length - 1] === 0);
  });
});
