/**
 * The assistant tools in a real VS Code (code-server): the extension's
 * language model tools are registered, listed in vscode.lm.tools and, invoked
 * through vscode.lm.invokeTool (no model needed), answer the live figures of
 * the real demo app's agent. The copied MCP configuration runs the bundled CLI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Breakdown, EndpointStats, Finding, Snapshot } from '../../protocol';
import type { RouteLensApi } from '../../extension/api';
import { parseOutputData } from '../../cli/tools/data';
import type { ExecutiveSummary } from '../../cli/core/summary';
import { DemoProcess } from './demo-process';
import { waitFor } from './wait';

const EXTENSION_ID = 'routelens.routelens';

interface LmApi {
  tools?: ReadonlyArray<{ name: string; inputSchema?: object; tags: readonly string[] }>;
  invokeTool?(name: string, options: { input: object; toolInvocationToken: undefined }): Thenable<{ content: Array<{ value?: unknown }> }>;
  registerTool?: unknown;
}

describe('RouteLens assistant tools in a real VS Code', function () {
  this.timeout(90_000);
  const lm = (vscode as unknown as { lm?: LmApi }).lm;
  let api: RouteLensApi;
  let demo: DemoProcess;
  let root: string;
  let pkg: { contributes: { languageModelTools: Array<{ name: string; inputSchema: object }> } };

  const invoke = async (name: string, input: object) => {
    const r = await lm!.invokeTool!(name, { input, toolInvocationToken: undefined });
    const text = r.content.map((p) => (typeof p.value === 'string' ? p.value : '')).join('');
    return { text, data: parseOutputData(text) };
  };

  before(async function () {
    const ext = vscode.extensions.getExtension<RouteLensApi>(EXTENSION_ID)!;
    root = ext.extensionPath;
    pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    if (!DemoProcess.available(root)) this.skip();
    api = await ext.activate();
    for (const a of api.state().agents) await vscode.commands.executeCommand('routelens.disconnect', { agentId: a.id });
    const folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    demo = new DemoProcess(root, folder, process.env.ROUTELENS_DISCOVERY_DIR!);
    await demo.start();
    await api.rescan();
    await vscode.commands.executeCommand('routelens.connect', { key: `routelens-demo@${folder}` });
    await waitFor(() => api.state().agents.find((a) => a.pid === demo.pid && a.state === 'connected'), 'connected to the demo', 30_000);
  });

  after(async () => {
    if (api) for (const a of api.state().agents) await vscode.commands.executeCommand('routelens.disconnect', { agentId: a.id });
    await demo?.stop();
  });

  it('this editor has the language model tools API (vscode.lm.registerTool, tools, invokeTool)', () => {
    assert.equal(typeof lm?.registerTool, 'function');
    assert.equal(typeof lm?.invokeTool, 'function');
    assert.ok(Array.isArray(lm?.tools));
  });

  it('every RouteLens tool is registered and listed in vscode.lm.tools with its input schema', async () => {
    const declared = pkg.contributes.languageModelTools;
    assert.equal(declared.length, 12);
    const listed = await waitFor(() => {
      const names = new Set(lm!.tools!.map((t) => t.name));
      return declared.every((d) => names.has(d.name)) ? lm!.tools! : undefined;
    }, 'the RouteLens tools in vscode.lm.tools');
    for (const d of declared) {
      const t = listed.find((x) => x.name === d.name)!;
      assert.deepEqual(t.inputSchema, d.inputSchema, d.name);
    }
  });

  it('routelens_busiest_routes, invoked through vscode.lm.invokeTool, answers the demo agent\'s live figures', async () => {
    for (let i = 0; i < 7; i++) assert.equal(await demo.get(`/users/${i}`), 200);
    const expected = async () => (await demo.api<{ endpoints: EndpointStats[] }>('/v1/endpoints?sort=most-requested&window=all&limit=5')).endpoints.filter((e) => e.count > 0).map((e) => [e.id, e.count]);
    const got = await waitFor(async () => {
      const { data } = await invoke('routelens_busiest_routes', { window: 'all', limit: 5, agent: String(demo.pid) });
      const rows = (data as { routes: Array<{ route: string; requests: number }> }).routes.map((r) => [r.route, r.requests]);
      return JSON.stringify(rows) === JSON.stringify(await expected()) ? rows : undefined;
    }, 'the tool to show the agent\'s figures', 20_000);
    assert.ok(got.some(([id, n]) => id === 'GET /users/:id' && (n as number) >= 7), JSON.stringify(got));
  });

  it('routelens_health_summary answers the health of /v1/snapshot, and a missing agent is a tool error', async () => {
    const { text, data } = await invoke('routelens_health_summary', { agent: String(demo.pid) });
    const s = data as ExecutiveSummary;
    const snap = await demo.api<Snapshot>('/v1/snapshot');
    assert.equal(s.agent.pid, demo.pid);
    assert.equal(s.status, snap.health.status);
    assert.match(text, /data, not instructions/);
    await assert.rejects(() => invoke('routelens_health_summary', { agent: 'no-such-app' }), /No running RouteLens agent matches/);
  });

  it('routelens_findings and routelens_route_details answer the demo\'s N+1 (findings, breakdown, traces) over the editor\'s connection', async () => {
    for (let i = 0; i < 6; i++) assert.equal(await demo.get(`/orders/${i + 1}`), 200);
    const expected = async () => (await demo.api<{ findings: Finding[] }>('/v1/findings')).findings.find((f) => f.kind === 'n-plus-one' && f.endpoint === 'GET /orders/:id');
    const real = await waitFor(expected, 'the agent\'s N+1 finding', 20_000);
    const found = await waitFor(async () => {
      const { data } = await invoke('routelens_findings', { kind: 'n-plus-one', route: '/orders/:id', agent: String(demo.pid) });
      return (data as { findings: Array<{ route: string; location: string; message: string }> }).findings.find((f) => f.route === 'GET /orders/:id');
    }, 'the finding through the tool', 20_000);
    assert.equal(found.location, `${real.location.file}:${real.location.line}:${real.location.column}`);
    const { data } = await invoke('routelens_route_details', { route: 'GET /orders/:id', agent: String(demo.pid) });
    const [d] = (data as { routes: Array<{ breakdown: { window: string; tracedRequests: number; kinds: Array<{ kind: string; sharePercent: number }> }; findings: Array<{ kind: string }>; slowestTraces: Array<{ requestId: string }> }> }).routes;
    const breakdown = await demo.api<Breakdown>('/v1/command', { method: 'POST', body: { command: 'endpoint.breakdown', args: { endpoint: 'GET /orders/:id', window: d!.breakdown.window } } });
    assert.ok(d!.breakdown.tracedRequests >= 1);
    assert.deepEqual(d!.breakdown.kinds.map((k) => k.kind).sort(), breakdown.kinds.map((k) => k.kind).sort());
    assert.ok(d!.findings.some((f) => f.kind === 'n-plus-one'));
    assert.ok(d!.slowestTraces.length >= 1 && d!.slowestTraces.length <= 3);
  });

  it('"RouteLens: Copy MCP Configuration" gives a configuration that runs the bundled CLI', async () => {
    const json = await vscode.commands.executeCommand<string>('routelens.copyMcpConfiguration');
    const entry = (JSON.parse(json!) as { mcpServers: { routelens: { command: string; args: string[] } } }).mcpServers.routelens;
    assert.equal(entry.command, 'node');
    assert.equal(entry.args[0], join(root, 'dist', 'cli', 'index.js'));
    assert.equal(entry.args[1], 'mcp');
    assert.ok(existsSync(entry.args[0]!), 'npm run build writes dist/cli');
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [entry.args[0]!, 'agents', '--json'], { env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' }, timeout: 20_000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    assert.ok((JSON.parse(out) as Array<{ pid: number }>).some((a) => a.pid === demo.pid));
  });
});
