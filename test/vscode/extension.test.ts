/**
 * Runs inside a real VS Code extension host (code-server), against a real
 * agent server (test/support/fake-agent.ts) started here in the same process
 * and advertised in ROUTELENS_DISCOVERY_DIR. Every command's effect is checked
 * on the agent.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { RouteLensApi } from '../../extension/api';
import { promptOptions } from '../../extension/commands/prompt';
import { FakeAgent } from '../support/fake-agent';
import { waitFor } from './wait';

const EXTENSION_ID = 'routelens.routelens';

describe('RouteLens extension in a real VS Code', function () {
  this.timeout(60_000);
  let api: RouteLensApi;
  let agent: FakeAgent;
  let folder: string;
  let serverJs: vscode.Uri;

  const lenses = async () => ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', serverJs)) ?? []).filter((l) => l.command?.command === 'routelens.openDashboard');
  const connected = () => api.state().agents.find((a) => a.state === 'connected');

  before(async () => {
    const dir = process.env.ROUTELENS_DISCOVERY_DIR;
    assert.ok(dir, 'ROUTELENS_DISCOVERY_DIR is set by the runner');
    folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
    assert.ok(folder, 'a workspace folder is open');
    serverJs = vscode.Uri.file(join(folder, 'server.js'));
    const loc = (line: number, column = 1) => ({ file: serverJs.fsPath, line, column });
    agent = await FakeAgent.start({
      dir,
      name: 'fixture-app',
      cwd: folder,
      routes: [
        { method: 'GET', route: '/users/:id', location: loc(5) },
        { method: 'POST', route: '/orders', location: loc(9), handlerLocation: loc(11) },
        { method: 'GET', route: '/health', location: loc(15) },
      ],
      cache: [
        { key: 'user:1', namespace: 'users', tags: ['user'] },
        { key: 'user:2', namespace: 'users', tags: ['user'] },
        { key: 'user:3', namespace: 'users', tags: ['user', 'vip'] },
        { key: 'order:1', namespace: 'orders' },
        { key: 'order:2', namespace: 'orders' },
        { key: 'session:a', namespace: 'sessions' },
        { key: 'session:b', namespace: 'sessions' },
      ],
    });
    const ext = vscode.extensions.getExtension<RouteLensApi>(EXTENSION_ID);
    assert.ok(ext, `${EXTENSION_ID} is loaded`);
    api = await ext.activate();
  });

  after(async () => {
    await agent?.stop();
  });

  it('discovers the agent and auto-connects (status bar shows the app)', async () => {
    await waitFor(connected, 'auto-connect');
    await waitFor(() => api.state().status.includes('fixture-app'), 'status bar text');
    assert.equal(agent.clientCount(), 1);
  });

  it('the Explorer tree shows the agent, endpoints grouped by router prefix, alerts and cache namespaces', async () => {
    const tree = api.tree();
    const [agentNode] = tree.getChildren();
    assert.equal(tree.getTreeItem(agentNode).label, 'fixture-app');
    const groups = tree.getChildren(agentNode);
    assert.deepEqual(groups.map((g) => tree.getTreeItem(g).label), ['Endpoints', 'Alerts', 'Cache namespaces']);
    const prefixes = tree.getChildren(groups[0]);
    assert.deepEqual(prefixes.map((p) => tree.getTreeItem(p).label), ['/health', '/orders', '/users']);
    assert.deepEqual(tree.getChildren(prefixes[2]).map((e) => tree.getTreeItem(e).label), ['GET /users/:id']);
    assert.deepEqual(tree.getChildren(groups[2]).map((n) => tree.getTreeItem(n).label).sort(), ['orders', 'sessions', 'users']);
  });

  it('puts code lenses on every reported registration (count 0 included) and at a handler defined elsewhere', async () => {
    await vscode.window.showTextDocument(serverJs);
    const list = await waitFor(async () => ((await lenses()).length === 4 ? lenses() : undefined), 'four lenses');
    const byLine = list.map((l) => [l.range.start.line, l.command?.title ?? '']).sort((a, b) => Number(a[0]) - Number(b[0]));
    assert.deepEqual(byLine.map((x) => x[0]), [4, 8, 10, 14]);
    assert.match(String(byLine[0][1]), /^GET \/users\/:id · p95 — · p99 — · 0 req · 0% err$/);
    assert.deepEqual(list.find((l) => l.range.start.line === 10)?.command?.arguments?.[0]?.endpointId, 'POST /orders');
  });

  it('updates lens figures live (throttled); a percentile is shown only once its requests can tell it apart, and the tooltip says why', async () => {
    for (const ms of [40, 42, 44, 80]) agent.hit('GET /users/:id', ms);
    const lens = await waitFor(async () => (await lenses()).find((l) => l.range.start.line === 4 && /4 req/.test(l.command?.title ?? '')), 'live lens title');
    // Four requests: p95 and p99 would both be the one 80 ms request.
    assert.match(String(lens.command?.title), /^GET \/users\/:id · p95 — · p99 — · 4 req · 0% err$/);
    assert.match(String(lens.command?.tooltip), /p95 needs 20 requests since start; 4 so far/);
    for (let i = 0; i < 16; i++) agent.hit('GET /users/:id', 40 + i);
    const title = await waitFor(async () => (await lenses()).find((l) => l.range.start.line === 4 && /20 req/.test(l.command?.title ?? ''))?.command?.title, 'lens title at 20 requests');
    assert.match(title, /^GET \/users\/:id · p95 \d+ ms · p99 — · 20 req · 0% err$/);
  });

  it('keeps lenses on the right lines while the file is edited, and re-syncs on a new snapshot (server restart)', async () => {
    const lensLines = async () => (await lenses()).map((l) => l.range.start.line).sort((a, b) => a - b);
    const shiftAgentLines = async (by: number) => {
      for (const r of agent.routes.values()) {
        if (r.location) r.location = { ...r.location, line: r.location.line + by };
        if (r.handlerLocation) r.handlerLocation = { ...r.handlerLocation, line: r.handlerLocation.line + by };
      }
      await agent.restart();
    };
    const edit = new vscode.WorkspaceEdit();
    edit.insert(serverJs, new vscode.Position(0, 0), '// one\n// two\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    await waitFor(async () => (await lensLines()).join() === '6,10,12,16', 'lenses moved by two lines');
    // The app restarts with the edited file: the agent now reports the new lines; no double shift.
    await shiftAgentLines(2);
    await waitFor(() => api.manager().selected?.client.endpoint?.url === agent.url && connected(), 'reconnected');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await lensLines()).join(), '6,10,12,16');
    // Undo the edit and restart with the original lines, so later tests see the original file.
    const undo = new vscode.WorkspaceEdit();
    undo.delete(serverJs, new vscode.Range(0, 0, 2, 0));
    assert.ok(await vscode.workspace.applyEdit(undo));
    await waitFor(async () => (await lensLines()).join() === '4,8,10,14', 'lenses follow the deletion');
    await shiftAgentLines(-2);
    await waitFor(() => api.manager().selected?.client.endpoint?.url === agent.url && connected(), 'reconnected');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await lensLines()).join(), '4,8,10,14');
  });

  it('routelens.invalidateCacheKey removes the key on the agent', async () => {
    const r = await vscode.commands.executeCommand<{ removed: number }>('routelens.invalidateCacheKey', { key: 'user:1' });
    assert.equal(r?.removed, 1);
    assert.equal(agent.cache.has('user:1'), false);
    assert.equal(agent.cache.has('user:2'), true);
  });

  it('routelens.invalidateCacheKey without arguments shows a quick pick fed by the agent\'s cache.keys; accepting removes that key', async () => {
    const before = agent.commands.length;
    const done = vscode.commands.executeCommand<{ removed: number }>('routelens.invalidateCacheKey');
    await waitFor(() => agent.commands.slice(before).some((c) => c.command === 'cache.keys'), 'the quick pick asked the agent for keys');
    await new Promise((r) => setTimeout(r, 500)); // let the items render
    const first = [...agent.cache.keys()][0];
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const r = await done;
    assert.equal(r?.removed, 1);
    assert.equal(agent.cache.has(first), false, `the first listed key (${first}) is gone on the agent`);
    agent.cache.set(first, { key: first, namespace: 'users', tags: ['user'] }); // put it back for later tests
  });

  it('routelens.invalidateCachePattern dry-runs first, then removes the matching keys', async () => {
    const before = agent.commands.length;
    const r = await vscode.commands.executeCommand<{ removed: number }>('routelens.invalidateCachePattern', { pattern: 'order:*' });
    assert.equal(r?.removed, 2);
    assert.deepEqual(agent.commands.slice(before).map((c) => (c.args as { dryRun?: boolean }).dryRun), [true, false]);
    assert.deepEqual([...agent.cache.keys()].filter((k) => k.startsWith('order:')), []);
  });

  it('routelens.invalidateCacheTag removes the tagged keys', async () => {
    const r = await vscode.commands.executeCommand<{ removed: number }>('routelens.invalidateCacheTag', { tag: 'vip' });
    assert.equal(r?.removed, 1);
    assert.equal(agent.cache.has('user:3'), false);
  });

  it('routelens.clearCacheNamespace empties the namespace', async () => {
    const r = await vscode.commands.executeCommand<{ removed: number }>('routelens.clearCacheNamespace', { namespace: 'sessions' });
    assert.equal(r?.removed, 2);
    assert.deepEqual([...agent.cache.values()].filter((e) => e.namespace === 'sessions'), []);
  });

  it('routelens.resetMetrics resets one endpoint, then all', async () => {
    agent.hit('GET /health', 1);
    await waitFor(() => api.manager().selected?.client.store.endpoint('GET /health')?.count === 1, 'hit seen');
    const one = await vscode.commands.executeCommand<{ reset: number }>('routelens.resetMetrics', { endpoint: 'GET /health' });
    assert.equal(one?.reset, 1);
    assert.equal(agent.samples.has('GET /health'), false);
    assert.equal(agent.samples.has('GET /users/:id'), true, 'others untouched');
    const all = await vscode.commands.executeCommand<{ reset: number }>('routelens.resetMetrics', { all: true });
    assert.equal(all?.reset, 3);
    assert.equal(agent.samples.size, 0);
  });

  it('routelens.setAlertThreshold changes the agent threshold', async () => {
    await vscode.commands.executeCommand('routelens.setAlertThreshold', { name: 'p95Ms', value: 250 });
    assert.equal(agent.thresholds.p95Ms, 250);
  });

  it('alerts become diagnostics at the handler (Error when critical) and clear when resolved by routelens.resolveAlert', async () => {
    const notifiedBefore = api.notifications();
    const alert = agent.fireAlert('POST /orders', 'critical', 'POST /orders p95 900 ms over 250 ms');
    const warning = agent.fireAlert('GET /users/:id', 'warning', 'GET /users/:id p95 300 ms over 250 ms');
    agent.flush();
    const second = agent.fireAlert('GET /health', 'critical', 'GET /health errors');
    const diags = await waitFor(() => {
      const d = vscode.languages.getDiagnostics(serverJs).filter((x) => x.source === 'RouteLens');
      return d.length === 3 ? d.sort((a, b) => a.range.start.line - b.range.start.line) : undefined;
    }, 'three diagnostics');
    assert.deepEqual(diags.map((d) => [d.range.start.line, d.severity]), [
      [4, vscode.DiagnosticSeverity.Warning],
      [10, vscode.DiagnosticSeverity.Error], // at the handler, not the registration
      [14, vscode.DiagnosticSeverity.Error],
    ]);
    assert.equal(api.notifications() - notifiedBefore, 1, 'two critical alerts within 30 s: one notification');
    await waitFor(() => /unhealthy/.test(api.state().status), 'status shows health');
    await vscode.commands.executeCommand('routelens.resolveAlert', { id: alert.id });
    await vscode.commands.executeCommand('routelens.resolveAlert', { id: warning.id });
    await vscode.commands.executeCommand('routelens.resolveAlert', { id: second.id });
    assert.equal(agent.alerts.length, 0);
    assert.equal(agent.history[0]?.resolvedBy, 'manual');
    await waitFor(() => vscode.languages.getDiagnostics(serverJs).filter((x) => x.source === 'RouteLens').length === 0, 'diagnostic cleared');
  });

  it('routelens.exportReport writes JSON and Markdown into the workspace', async () => {
    const r = await vscode.commands.executeCommand<{ json: string; markdown: string }>('routelens.exportReport', { open: false });
    assert.ok(r && existsSync(r.json) && existsSync(r.markdown));
    assert.equal(JSON.parse(readFileSync(r.json, 'utf8')).snapshot.agent.name, 'fixture-app');
    assert.match(readFileSync(r.markdown, 'utf8'), /GET \/users\/:id/);
    assert.ok(r.markdown.startsWith(folder));
  });

  it('routelens.toggleCodeLenses hides and shows the lenses', async () => {
    await vscode.commands.executeCommand('routelens.toggleCodeLenses', { enabled: false });
    await waitFor(async () => (await lenses()).length === 0, 'lenses hidden');
    await vscode.commands.executeCommand('routelens.toggleCodeLenses', { enabled: true });
    await waitFor(async () => (await lenses()).length === 4, 'lenses back');
  });

  it('routelens.showSlowRequests returns the agent\'s slow requests', async () => {
    const r = await vscode.commands.executeCommand<unknown[]>('routelens.showSlowRequests', { pick: false });
    assert.ok(Array.isArray(r));
  });

  it('the dashboard opens on an endpoint; webview messages are validated and only allow-listed commands reach the agent', async () => {
    await vscode.commands.executeCommand('routelens.openDashboard', { endpointId: 'GET /users/:id' });
    assert.equal(api.dashboard.isOpen(), true);
    // The real webview bundle (dist/webview/main.js, loaded under the strict CSP) says `ready` by itself.
    const extPath = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
    if (existsSync(join(extPath, 'dist/webview/main.js'))) await waitFor(() => api.dashboard.isReady(), 'the real webview to say ready', 30_000);
    else await api.dashboard.receive({ type: 'ready' });
    await waitFor(() => api.dashboard.posted().some((m) => m.type === 'focusEndpoint' && m.endpointId === 'GET /users/:id'), 'focusEndpoint posted');
    assert.ok(api.dashboard.posted().some((m) => m.type === 'snapshot'));
    // The dashboard is the active editor: pickers must survive the focus it takes back (microsoft/vscode#93950).
    assert.equal(promptOptions().ignoreFocusOut, true, 'pickers stay open over the active dashboard');
    const before = agent.commands.length;
    await api.dashboard.receive({ type: 'command', id: 7, command: 'cache.invalidate', args: { key: 'user:2' } });
    assert.equal(agent.cache.has('user:2'), false, 'allow-listed command forwarded');
    assert.ok(api.dashboard.posted().some((m) => m.type === 'reply' && m.id === 7 && m.ok));
    await api.dashboard.receive({ type: 'command', id: 8, command: 'snapshot' });
    await api.dashboard.receive({ type: 'command', id: 9, command: 'cache.invalidate', args: { key: 'x', __proto__: { polluted: 1 } } });
    await api.dashboard.receive({ type: 'openHandler', endpointId: 'GET /nope' });
    await api.dashboard.receive({ type: 'executeCommand', command: 'workbench.action.quit' });
    assert.equal(agent.commands.length, before + 1, 'nothing else reached the agent');
    assert.ok(api.dashboard.posted().some((m) => m.type === 'reply' && m.id === 8 && !m.ok));
    await api.dashboard.receive({ type: 'openHandler', endpointId: 'POST /orders' });
    await waitFor(() => vscode.window.activeTextEditor?.document.uri.fsPath === serverJs.fsPath && vscode.window.activeTextEditor.selection.active.line === 10, 'handler opened');
    assert.equal(promptOptions().ignoreFocusOut, false, 'over a text editor, pickers close on focus loss as usual');
  });

  it('reconnects after the agent restarts on a new port and token', async () => {
    const oldPort = agent.port;
    await agent.restart();
    assert.notEqual(agent.port, oldPort);
    await waitFor(() => api.manager().selected?.client.endpoint?.url === agent.url && connected(), 'reconnected');
    await waitFor(() => agent.clientCount() === 1, 'one socket on the agent');
    const r = await vscode.commands.executeCommand<{ removed: number }>('routelens.invalidateCacheKey', { key: 'session:zzz' });
    assert.equal(r?.removed, 0, 'commands work on the new connection');
  });

  it('routelens.disconnect, routelens.connect and routelens.selectAgent', async () => {
    const id = api.state().selected!;
    await vscode.commands.executeCommand('routelens.disconnect', { agentId: id });
    assert.equal(api.state().agents.length, 0);
    await waitFor(() => agent.clientCount() === 0, 'socket closed on the agent');
    await waitFor(() => /no agent/.test(api.state().status), 'status: no agent');
    const newId = await vscode.commands.executeCommand<string>('routelens.connect', { key: `fixture-app@${folder}` });
    assert.equal(newId, id);
    await waitFor(connected, 'connected again');
    assert.equal(await vscode.commands.executeCommand('routelens.selectAgent', { agentId: id }), 'fixture-app');
    await waitFor(() => agent.clientCount() === 1, 'one socket');
    // By URL and token (as typed into "Connect to Agent…").
    const manual = await vscode.commands.executeCommand<string>('routelens.connect', { url: `http://127.0.0.1:${agent.port}`, token: agent.token });
    assert.match(manual ?? '', /^manual:/);
    await waitFor(() => api.state().agents.find((a) => a.id === manual && a.state === 'connected'), 'manual connection');
    assert.equal(agent.clientCount(), 2);
    await vscode.commands.executeCommand('routelens.disconnect', { agentId: manual });
    await waitFor(() => agent.clientCount() === 1, 'manual connection closed');
  });
});
