/**
 * The same extension, against the real demo app and the real agent (spawned
 * here). Effects are checked through the agent's own HTTP API.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CacheKeyInfo, EndpointStats, Snapshot, Thresholds } from '../../protocol';
import type { RouteLensApi } from '../../extension/api';
import { DemoProcess } from './demo-process';
import { waitFor } from './wait';

const EXTENSION_ID = 'routelens.routelens';

describe('RouteLens extension with the real demo app and agent', function () {
  this.timeout(90_000);
  let api: RouteLensApi;
  let demo: DemoProcess;
  let root: string;
  let key: string;

  const selected = () => api.manager().selected;
  const keys = async (pattern: string) => (await demo.api<{ keys: CacheKeyInfo[] }>(`/v1/cache/keys?pattern=${encodeURIComponent(pattern)}&limit=1000`)).keys.map((k) => k.key);

  before(async function () {
    const ext = vscode.extensions.getExtension<RouteLensApi>(EXTENSION_ID)!;
    root = ext.extensionPath;
    if (!DemoProcess.available(root)) this.skip();
    api = await ext.activate();
    // Leave only the demo: drop connections left by earlier suites.
    for (const a of api.state().agents) await vscode.commands.executeCommand('routelens.disconnect', { agentId: a.id });
    const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
    demo = new DemoProcess(root, folder, process.env.ROUTELENS_DISCOVERY_DIR!);
    await demo.start();
    key = `routelens-demo@${folder}`;
  });

  after(async () => {
    if (api) for (const a of api.state().agents) await vscode.commands.executeCommand('routelens.disconnect', { agentId: a.id });
    await demo?.stop();
  });

  it('auto-connects to the demo agent', async () => {
    await api.rescan();
    await waitFor(() => api.state().agents.find((a) => a.id === key && a.state === 'connected'), 'connected to the demo', 30_000);
    await vscode.commands.executeCommand('routelens.selectAgent', { agentId: key });
    assert.equal(api.state().selected, key);
  });

  it('code lenses sit on the real registrations in app.mjs with live figures (too few requests for p95: a dash)', async () => {
    for (let i = 0; i < 5; i++) assert.equal(await demo.get(`/users/${i}`), 200);
    const appMjs = vscode.Uri.file(join(root, 'examples/demo/app.mjs'));
    await vscode.window.showTextDocument(appMjs);
    const lens = await waitFor(async () => {
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', appMjs)) ?? [];
      return lenses.find((l) => l.command?.command === 'routelens.openDashboard' && /^GET \/users\/:id · p95 — · p99 — · [5-9] req/.test(l.command.title));
    }, 'lens with figures', 30_000);
    const text = (await vscode.workspace.openTextDocument(appMjs)).lineAt(lens.range.start.line).text;
    assert.match(text, /app\.get\('\/users\/:id'/);
  });

  it('routelens.invalidateCacheKey removes the key from the real cache', async () => {
    await demo.get('/users/3');
    const before = await keys('users:3');
    assert.deepEqual(before, ['users:3']);
    const r = await vscode.commands.executeCommand<{ removed: number }>('routelens.invalidateCacheKey', { key: 'users:3' });
    assert.equal(r?.removed, 1);
    assert.deepEqual(await keys('users:3'), []);
  });

  it('routelens.invalidateCachePattern removes every match', async () => {
    for (let i = 10; i < 14; i++) await demo.get(`/users/${i}`);
    assert.ok((await keys('users:1?')).length >= 4);
    const r = await vscode.commands.executeCommand<{ removed: number }>('routelens.invalidateCachePattern', { pattern: 'users:1?' });
    assert.ok((r?.removed ?? 0) >= 4);
    assert.deepEqual(await keys('users:1?'), []);
  });

  it('routelens.resetMetrics resets the real metrics', async () => {
    await demo.get('/');
    const r = await vscode.commands.executeCommand<{ reset: number }>('routelens.resetMetrics', { all: true });
    assert.ok((r?.reset ?? 0) > 0);
    const { endpoints } = await demo.api<{ endpoints: EndpointStats[] }>('/v1/endpoints?limit=2000');
    assert.deepEqual(endpoints.filter((e) => e.count > 0).map((e) => e.id), []);
  });

  it('routelens.setAlertThreshold changes the real threshold', async () => {
    await vscode.commands.executeCommand('routelens.setAlertThreshold', { name: 'p95Ms', value: 1234 });
    assert.equal((await demo.api<Thresholds>('/v1/thresholds')).p95Ms, 1234);
  });

  it('routelens.pauseMeasuring pauses the real agent and the status bar shows it; routelens.resumeMeasuring measures again', async () => {
    const usersCount = async () => (await demo.api<EndpointStats>(`/v1/endpoints/${encodeURIComponent('GET /users/:id')}`)).count;
    const before = await usersCount();
    const paused = await vscode.commands.executeCommand<{ paused: boolean }>('routelens.pauseMeasuring');
    assert.deepEqual(paused, { paused: true });
    assert.equal((await demo.api<Snapshot>('/v1/snapshot')).paused, true);
    await waitFor(() => selected()?.client.store.snapshot?.paused === true, 'the store received the pause', 10_000);
    await waitFor(() => /paused/.test(api.state().status) || undefined, 'the status bar shows the pause', 10_000);
    for (let i = 0; i < 3; i++) assert.equal(await demo.get(`/users/${i}`), 200);

    const resumed = await vscode.commands.executeCommand<{ paused: boolean }>('routelens.resumeMeasuring');
    assert.deepEqual(resumed, { paused: false });
    await waitFor(() => !/paused/.test(api.state().status) || undefined, 'the status bar no longer shows the pause', 10_000);
    assert.equal(await demo.get('/users/1'), 200);
    await waitFor(async () => (await usersCount()) === before + 1 || undefined, 'only the request made after resuming is counted', 10_000);
  });

  it('reconnects after the demo restarts (new pid, port and token)', async () => {
    const oldPort = demo.record!.port;
    await demo.stop();
    await waitFor(() => selected()?.client.state === 'reconnecting', 'noticed the agent is gone', 30_000);
    await demo.start();
    assert.notEqual(demo.record!.port, oldPort);
    await waitFor(() => selected()?.client.state === 'connected' && selected()?.client.endpoint?.url.includes(`:${demo.record!.port}/`), 'reconnected to the new agent', 60_000);
    assert.equal(selected()?.client.store.snapshot?.agent.pid, demo.pid, 'resynced from the new snapshot');
  });
});
