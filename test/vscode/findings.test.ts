/**
 * "Why is this route slow" in a real VS Code (code-server), against the fake
 * agent (test/support/fake-agent.ts) with canned findings, traces and
 * profiles: findings as diagnostics, lenses and a view; Show Findings; Route
 * Details in the dashboard; Profile Route… opening a real `.cpuprofile`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ProfileSummary } from '../../protocol';
import type { RouteLensApi } from '../../extension/api';
import { FakeAgent } from '../support/fake-agent';
import { n1Breakdown, n1Finding, n1Trace, profileSummary } from '../support/why-fixtures';
import { waitFor } from './wait';

const EXTENSION_ID = 'routelens.routelens';
const ORDERS = 'GET /orders/:id';

describe('RouteLens findings, route details and profiles in a real VS Code', function () {
  this.timeout(60_000);
  let api: RouteLensApi;
  let agent: FakeAgent;
  let folder: string;
  let ordersJs: vscode.Uri;
  let file: string;

  const diagnostics = () => vscode.languages.getDiagnostics(ordersJs).filter((d) => d.source === 'RouteLens').sort((a, b) => a.range.start.line - b.range.start.line);
  const lenses = async () => (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', ordersJs)) ?? [];
  const activeLine = () => (vscode.window.activeTextEditor?.document.uri.fsPath === file ? vscode.window.activeTextEditor.selection.active.line : -1);
  const sequential = () => n1Finding(file, { id: 'seq:6', kind: 'sequential-awaits', severity: 'info', message: 'the orders query and the Redis GET may run together (they do not overlap)', recommendation: 'start both, then await Promise.all', evidence: {}, location: { file, line: 6, column: 5 } });

  before(async () => {
    const ext = vscode.extensions.getExtension<RouteLensApi>(EXTENSION_ID)!;
    api = await ext.activate();
    for (const a of api.state().agents) await vscode.commands.executeCommand('routelens.disconnect', { agentId: a.id });
    folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    ordersJs = vscode.Uri.file(join(folder, 'orders.js'));
    file = ordersJs.fsPath;
    agent = await FakeAgent.start({
      dir: process.env.ROUTELENS_DISCOVERY_DIR!,
      name: 'why-app',
      cwd: folder,
      routes: [{ method: 'GET', route: '/orders/:id', location: { file, line: 5, column: 1 } }],
    });
    agent.traces.set(ORDERS, [n1Trace(file)]);
    agent.breakdowns.set(ORDERS, n1Breakdown(file));
    await api.rescan();
    await vscode.commands.executeCommand('routelens.connect', { key: `why-app@${folder}` });
    await waitFor(() => api.state().agents.find((a) => a.name === 'why-app' && a.state === 'connected'), 'connected to the fake agent');
    await vscode.window.showTextDocument(ordersJs);
  });

  after(async () => {
    if (api) for (const a of api.state().agents) await vscode.commands.executeCommand('routelens.disconnect', { agentId: a.id });
    await agent?.stop();
  });

  it('findings become Problems-panel diagnostics at their line (Warning or Information by severity), cleared when a finding goes', async () => {
    agent.setFindings([n1Finding(file), sequential()]);
    const list = await waitFor(() => (diagnostics().length === 2 ? diagnostics() : undefined), 'two finding diagnostics');
    assert.deepEqual(list.map((d) => [d.range.start.line, d.range.start.character, d.severity, d.code]), [
      [5, 4, vscode.DiagnosticSeverity.Information, 'sequential-awaits'],
      [6, 4, vscode.DiagnosticSeverity.Warning, 'n-plus-one'],
    ]);
    assert.match(list[1]!.message, /^SELECT … FROM items WHERE order_id = \? ran 15× in one request \(61 % of GET \/orders\/:id\)\. Try: load the items in one query/);
    agent.setFindings([n1Finding(file)]);
    await waitFor(() => diagnostics().length === 1 && diagnostics()[0]!.code === 'n-plus-one', 'the sequential-awaits diagnostic cleared');
    agent.setFindings([n1Finding(file), sequential()]);
    await waitFor(() => diagnostics().length === 2, 'back to two');
  });

  it('the endpoint\'s lens shows its finding, with Details and Profile… actions; clicking the finding opens its line', async () => {
    const list = await waitFor(async () => {
      const l = await lenses();
      return l.some((x) => x.command?.command === 'routelens.showFindings') ? l : undefined;
    }, 'a finding lens');
    const onRoute = list.filter((l) => l.range.start.line === 4).map((l) => l.command?.title);
    assert.ok(onRoute.includes('⚠ N+1: 15× SELECT … FROM items WHERE order_id = ?'), onRoute.join(' | '));
    assert.ok(onRoute.includes('ⓘ Sequential awaits: the orders query and the Redis GET may run…'), onRoute.join(' | '));
    assert.ok(onRoute.includes('Details') && onRoute.includes('Profile…'));
    const lens = list.find((l) => l.command?.title.startsWith('⚠ N+1'))!;
    await vscode.commands.executeCommand(lens.command!.command, ...(lens.command!.arguments ?? []));
    await waitFor(() => activeLine() === 6, 'the finding\'s line opened');
  });

  it('the Findings view groups findings by endpoint; routelens.showFindings lists them and its quick pick opens the picked one', async () => {
    const tree = api.findingsTree();
    const groups = tree.getChildren();
    assert.deepEqual(groups.map((g) => tree.getTreeItem(g).label), [ORDERS]);
    const items = tree.getChildren(groups[0]).map((n) => tree.getTreeItem(n));
    assert.deepEqual(items.map((i) => i.label), ['N+1: 15× SELECT … FROM items WHERE order_id = ?', 'Sequential awaits: the orders query and the Redis GET may run…']);
    assert.deepEqual(items[0]!.command?.command, 'vscode.open');
    const listed = await vscode.commands.executeCommand<Array<{ id: string }>>('routelens.showFindings', { pick: false });
    assert.deepEqual(listed?.map((f) => f.id), [n1Finding(file).id, 'seq:6']);
    await vscode.window.showTextDocument(vscode.Uri.file(join(folder, 'server.js')));
    let settled = false;
    const done = Promise.resolve(vscode.commands.executeCommand('routelens.showFindings')).finally(() => (settled = true));
    // Accept once the quick pick shows (accepting before it does is a no-op).
    for (let i = 0; i < 30 && !settled; i++) {
      await new Promise((r) => setTimeout(r, 300));
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    await done;
    await waitFor(() => activeLine() === 6, 'the picked finding\'s line opened');
  });

  it('routelens.showRouteDetails opens the dashboard on Route Details; a span location the agent reported opens, another is refused', async () => {
    await vscode.commands.executeCommand('routelens.showRouteDetails', { endpointId: ORDERS });
    assert.equal(api.dashboard.isOpen(), true);
    await waitFor(() => api.dashboard.isReady(), 'the real webview to say ready', 30_000);
    await waitFor(() => api.dashboard.posted().some((m) => m.type === 'showDetails' && m.endpointId === ORDERS), 'showDetails posted');
    // The real webview asks for the breakdown and traces by itself.
    await waitFor(() => agent.commands.some((c) => c.command === 'traces.list' && (c.args as { endpoint: string }).endpoint === ORDERS), 'the webview asked for traces');
    await waitFor(() => agent.commands.some((c) => c.command === 'endpoint.breakdown'), 'the webview asked for the breakdown');
    await api.dashboard.receive({ type: 'command', id: 901, command: 'traces.list', args: { endpoint: ORDERS } });
    await api.dashboard.receive({ type: 'openLocation', location: { file: '/etc/hostname', line: 1, column: 1 } });
    await api.dashboard.receive({ type: 'openLocation', location: { file, line: 9, column: 5 } });
    await waitFor(() => activeLine() === 8, 'the Redis span\'s line opened');
    assert.notEqual(vscode.window.activeTextEditor?.document.uri.fsPath, '/etc/hostname');
  });

  it('routelens.profileRoute shows progress, opens the written .cpuprofile and lists it in Route Details; a second at once is refused', async () => {
    agent.profileMsPerSecond = 300;
    agent.profileTop = profileSummary(ORDERS, file, '', 2).top;
    const first = vscode.commands.executeCommand<ProfileSummary>('routelens.profileRoute', { endpointId: ORDERS, seconds: 2 });
    await waitFor(() => agent.profiling === ORDERS, 'profiling');
    const second = await vscode.commands.executeCommand<ProfileSummary | undefined>('routelens.profileRoute', { endpointId: ORDERS, seconds: 1 });
    assert.equal(second, undefined, 'refused by the agent (its message shown as an error)');
    const summary = await first;
    assert.ok(summary && existsSync(summary.file), 'the profile was written');
    assert.ok(Array.isArray(JSON.parse(readFileSync(summary.file, 'utf8')).nodes), 'a .cpuprofile');
    assert.equal(agent.commands.filter((c) => c.command === 'profile.start').length, 2);
    await waitFor(() => vscode.window.tabGroups.all.flatMap((g) => g.tabs).some((t) => (t.input as { uri?: vscode.Uri } | undefined)?.uri?.fsPath === summary.file), 'the .cpuprofile opened in an editor tab');
    await waitFor(() => api.dashboard.posted().some((m) => m.type === 'profile' && m.summary.file === summary.file), 'the profile posted to Route Details', 30_000);
    // Its functions' locations may now be opened from the dashboard.
    await api.dashboard.receive({ type: 'openLocation', location: { file, line: 5, column: 3 } });
    await waitFor(() => activeLine() === 4, 'a profiled function\'s line opened');
  });

  it('diagnostics and the Findings view clear when the agent disconnects', async () => {
    assert.equal(diagnostics().length, 2);
    const id = api.state().agents.find((a) => a.name === 'why-app')!.id;
    await vscode.commands.executeCommand('routelens.disconnect', { agentId: id });
    await waitFor(() => diagnostics().length === 0, 'finding diagnostics cleared');
    assert.deepEqual(api.findingsTree().getChildren(), []);
  });
});
