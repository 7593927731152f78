/**
 * The baseline on the code lenses and "RouteLens: Compare with Baseline…" in a
 * real VS Code (code-server), against a real agent server
 * (test/support/fake-agent.ts) answering canned comparisons.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { BaselineComparison, BaselineDelta } from '../../protocol';
import type { RouteLensApi } from '../../extension/api';
import { FakeAgent } from '../support/fake-agent';
import { waitFor } from './wait';

const EXTENSION_ID = 'routelens.routelens';

const delta = (endpoint: string, over: Partial<BaselineDelta>): BaselineDelta => ({ endpoint, base: 31, head: 42, change: 0.35, low: 0.2, high: 0.5, verdict: 'regressed', baseCount: 340, headCount: 1200, ...over });

describe('RouteLens baseline lenses and Compare with Baseline in a real VS Code', function () {
  this.timeout(60_000);
  let api: RouteLensApi;
  let agent: FakeAgent;
  let serverJs: vscode.Uri;
  let key: string;

  const lensesByLine = async () => {
    const list = ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', serverJs)) ?? []).filter((l) => l.command?.command === 'routelens.openDashboard');
    const out = new Map<number, vscode.Command[]>();
    for (const l of list) out.set(l.range.start.line, [...(out.get(l.range.start.line) ?? []), l.command!]);
    return out;
  };
  const arrows = async () => [...(await lensesByLine())].flatMap(([line, cmds]) => cmds.filter((c) => /[\u25B2\u25BC]/.test(c.title)).map((c) => `${line}: ${c.title}`));

  before(async () => {
    const dir = process.env.ROUTELENS_DISCOVERY_DIR!;
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    serverJs = vscode.Uri.file(join(folder, 'server.js'));
    const ext = vscode.extensions.getExtension<RouteLensApi>(EXTENSION_ID)!;
    api = await ext.activate();
    for (const a of api.state().agents) await vscode.commands.executeCommand('routelens.disconnect', { agentId: a.id });
    const loc = (line: number) => ({ file: serverJs.fsPath, line, column: 1 });
    agent = await FakeAgent.start({
      dir,
      name: 'baseline-app',
      cwd: folder,
      routes: [
        { method: 'GET', route: '/users/:id', location: loc(5) },
        { method: 'POST', route: '/orders', location: loc(9) },
        { method: 'GET', route: '/health', location: loc(15) },
      ],
    });
    const comparison: BaselineComparison = {
      source: 'branch',
      name: 'main',
      endpoints: [
        delta('GET /users/:id', {}),
        delta('POST /orders', { verdict: 'inconclusive', headCount: 6, low: -0.7, high: 1.9 }),
        delta('GET /health', { verdict: 'unchanged', change: 0.02, low: -0.04, high: 0.08 }),
      ],
    };
    agent.comparison = comparison;
    key = `baseline-app@${folder}`;
    await vscode.commands.executeCommand('routelens.connect', { key });
    await waitFor(() => api.state().agents.find((a) => a.id === key && a.state === 'connected'), 'connected to baseline-app');
    await vscode.commands.executeCommand('routelens.selectAgent', { agentId: key });
  });

  after(async () => {
    if (api) for (const a of api.state().agents) await vscode.commands.executeCommand('routelens.disconnect', { agentId: a.id });
    await agent?.stop();
  });

  it('asks baseline.compare on connect; the lens shows ▲ on the regressed route only, not on an inconclusive or unchanged one, whose tooltips say why', async () => {
    assert.ok(agent.commands.some((c) => c.command === 'baseline.compare'), 'asked on connect');
    await vscode.window.showTextDocument(serverJs);
    await waitFor(async () => (await arrows()).length > 0, 'a baseline lens');
    assert.deepEqual(await arrows(), ['4: p95 42 ms \u25B2 35% vs main']);
    const byLine = await lensesByLine();
    const baselineLens = byLine.get(4)!.find((c) => c.title.includes('\u25B2'))!;
    assert.match(String(baselineLens.tooltip), /^Slower than main, beyond the noise of both samples\. p95 42 ms now vs 31 ms on main: \+35% \(95% interval \+20% to \+50%/);
    assert.deepEqual(baselineLens.arguments?.[0], { endpointId: 'GET /users/:id', agentId: key, tab: 'history' }, 'a click opens the route\'s history');
    assert.equal(byLine.get(8)!.length, 1, 'inconclusive: no baseline lens');
    assert.match(String(byLine.get(8)![0]!.tooltip), /Too few requests to compare with main\./);
    assert.equal(byLine.get(14)!.length, 1, 'unchanged: no baseline lens');
    assert.match(String(byLine.get(14)![0]!.tooltip), /Within noise of main\./);
  });

  it('the baseline lens opens the dashboard on the route\'s History; the dashboard\'s history.get reaches the agent', async () => {
    const t0 = Date.now() - 3_600_000;
    agent.histories.set('GET /users/:id', { endpoint: 'GET /users/:id', resolution: 'minute', from: t0, to: Date.now(), points: [{ t: t0 + 60_000, count: 12, errors: 0, p50: 9, p95: 40, p99: 41, git: { commit: 'abc1234', branch: 'main', dirty: true } }], commits: [{ t: t0 + 60_000, commit: 'abc1234', branch: 'main', dirty: true }] });
    const lens = (await lensesByLine()).get(4)!.find((c) => c.title.includes('\u25B2'))!;
    await vscode.commands.executeCommand(lens.command, ...(lens.arguments ?? []));
    await waitFor(() => api.dashboard.isReady(), 'the webview to say ready', 30_000);
    const order = await waitFor(() => {
      const posted = [...api.dashboard.posted()].reverse();
      const focus = posted.findIndex((m) => m.type === 'focusEndpoint' && m.endpointId === 'GET /users/:id');
      const tab = posted.findIndex((m) => m.type === 'showTab' && m.tab === 'history');
      return focus >= 0 && tab >= 0 ? [focus, tab] : undefined;
    }, 'focusEndpoint and showTab posted');
    assert.ok(order[0]! > order[1]!, 'the History tab is shown after the endpoint is focused (newest first here)');
    // What the History tab sends (the webview's own request may come too: count ours by its id).
    await api.dashboard.receive({ type: 'command', id: 4242, command: 'history.get', args: { endpoint: 'GET /users/:id', from: t0, to: Date.now(), resolution: 'minute' } });
    const reply = api.dashboard.posted().find((m) => m.type === 'reply' && m.id === 4242);
    assert.ok(reply && reply.type === 'reply' && reply.ok, 'answered');
    assert.equal((reply.result as { points: unknown[] }).points.length, 1);
    assert.ok(agent.commands.some((c) => c.command === 'history.get' && (c.args as { endpoint: string }).endpoint === 'GET /users/:id'));
  });

  it('routelens.compareWithBaseline with a saved file runs baseline.set, opens the comparison as Markdown, and the lens follows', async () => {
    const r = await vscode.commands.executeCommand<BaselineComparison>('routelens.compareWithBaseline', { source: 'file', file: 'perf/baseline.json' });
    assert.equal(r?.source, 'file');
    assert.deepEqual(agent.commands.filter((c) => c.command === 'baseline.set').pop()?.args, { file: 'perf/baseline.json' });
    const doc = await waitFor(() => (vscode.window.activeTextEditor?.document.languageId === 'markdown' ? vscode.window.activeTextEditor.document : undefined), 'the Markdown document');
    const text = doc.getText();
    assert.match(text, /^# RouteLens: live figures vs perf\/baseline\\\.json$/m);
    assert.match(text, /^\| GET \/users\/:id \| 31 ms \| 42 ms \| \+35% \(\+20% to \+50%\) \| 340 \/ 1\.2k \| \u25B2 regressed \|$/m);
    assert.match(text, /^\| POST \/orders \| .* \| inconclusive \|$/m);
    await vscode.window.showTextDocument(serverJs);
    await waitFor(async () => (await arrows()).join() === '4: p95 42 ms \u25B2 35% vs baseline.json', 'lens says vs the file');
  });

  it('without arguments, a quick pick offers the default branch first; accepting it runs baseline.set {} and the lens says "vs main" again', async () => {
    const before = agent.commands.length;
    // Without `source` the command asks which baseline (`open: false` only skips the document).
    const done = vscode.commands.executeCommand<BaselineComparison>('routelens.compareWithBaseline', { open: false });
    await new Promise((r) => setTimeout(r, 800));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const r = await done;
    assert.equal(r?.source, 'branch');
    assert.deepEqual(agent.commands.slice(before).filter((c) => c.command === 'baseline.set').map((c) => c.args), [{}]);
    await waitFor(async () => (await arrows()).join() === '4: p95 42 ms \u25B2 35% vs main', 'lens says vs main');
  });

  it('refuses a baseline file that is not .json without asking the agent', async () => {
    const before = agent.commands.length;
    const r = await vscode.commands.executeCommand('routelens.compareWithBaseline', { source: 'file', file: 'perf/baseline.txt', open: false });
    assert.equal(r, undefined);
    assert.equal(agent.commands.slice(before).filter((c) => c.command === 'baseline.set').length, 0);
  });

  it('a route whose comparison turns unchanged loses its ▲ after the next compare', async () => {
    agent.comparison = { source: 'branch', name: 'main', endpoints: [delta('GET /users/:id', { verdict: 'unchanged', change: 0.01, low: -0.03, high: 0.05 })] };
    // The poll runs every 30 s; running the command asks now.
    await vscode.commands.executeCommand('routelens.compareWithBaseline', { source: 'branch', open: false });
    await waitFor(async () => (await arrows()).length === 0, 'no baseline lens');
  });
});
