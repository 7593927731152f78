/**
 * Entry point. Activation is cheap: commands, settings and the dashboard
 * serializer are registered; discovery (a directory watch) and everything that
 * talks to agents start on first need: at startup only when
 * `routelens.autoConnect` is on, else when a RouteLens command or view is used.
 */
import './core/jitless';
import * as vscode from 'vscode';
import type { SourceLocation } from '../protocol';
import type { RouteLensApi } from './api';
import { registerCommands } from './commands';
import { SECTION, readConfig } from './config';
import { DiscoveryWatcher, filterByWorkspace, newestPerKey } from './core/discovery';
import { BaselinePoller } from './core/baseline';
import { AgentManager } from './core/manager';
import { DashboardPanel, openSourceLocation } from './dashboard/panel';
import { registerMcpServerProvider } from './lm/mcp';
import { registerLanguageModelTools } from './lm/tools';
import type { Services } from './services';
import { LENS_LANGUAGES, RouteCodeLensProvider } from './views/codeLens';
import { AlertDiagnostics } from './views/diagnostics';
import { FindingDiagnostics } from './views/findingDiagnostics';
import { FindingsTree } from './views/findingsTree';
import { StatusBar } from './views/statusBar';
import { RouteLensTree } from './views/tree';

interface Started {
  manager: AgentManager;
  watcher: DiscoveryWatcher;
  status: StatusBar;
  diagnostics: AlertDiagnostics;
  lenses: RouteCodeLensProvider;
  baseline: BaselinePoller;
  findings: FindingDiagnostics;
}

export function activate(context: vscode.ExtensionContext): RouteLensApi {
  const output = vscode.window.createOutputChannel('RouteLens');
  context.subscriptions.push(output);
  const log = (line: string) => output.appendLine(`${new Date().toISOString()} ${line}`);
  let config = readConfig();
  let started: Started | undefined;
  let lensRegistration: vscode.Disposable | undefined;

  const workspaceFolders = () => (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const visible = (w: DiscoveryWatcher) => newestPerKey(filterByWorkspace(w.current, workspaceFolders(), config.pathMappings));

  const updateLensRegistration = () => {
    if (!started) return;
    if (config.codeLensEnabled && !lensRegistration) {
      lensRegistration = vscode.languages.registerCodeLensProvider(LENS_LANGUAGES.map((language) => ({ language, scheme: 'file' })), started.lenses);
    } else if (!config.codeLensEnabled && lensRegistration) {
      lensRegistration.dispose();
      lensRegistration = undefined;
    }
    started.lenses.refresh();
  };

  const { dashboard, disposable: dashboardDisposable } = DashboardPanel.register({
    extensionUri: context.extensionUri,
    manager: () => ensureStarted().manager,
    config: () => config,
    log,
  });
  context.subscriptions.push(dashboardDisposable);

  // The views are registered now (cheap); opening one starts discovery.
  const registerView = <T>(id: string, provider: vscode.TreeDataProvider<T> & vscode.Disposable) => {
    const view = vscode.window.createTreeView(id, { treeDataProvider: provider, showCollapseAll: true });
    context.subscriptions.push(
      provider,
      view,
      view.onDidChangeVisibility((e) => {
        if (e.visible) ensureStarted();
      }),
    );
  };
  const tree = new RouteLensTree();
  registerView('routelens.agents', tree);
  const findingsTree = new FindingsTree(() => config);
  registerView('routelens.findings', findingsTree);

  const openLocation = (loc: SourceLocation) => void openSourceLocation(loc, config.pathMappings).then(undefined, (err: Error) => log(`open ${loc.file} failed: ${err.message}`));

  function ensureStarted(): Started {
    if (started) return started;
    log(`starting: discovery in ${config.discoveryDir}`);
    const watcher = new DiscoveryWatcher(config.discoveryDir, { log });
    const manager = new AgentManager({
      discovered: () => visible(watcher),
      rescan: async () => {
        await watcher.rescan();
        return visible(watcher);
      },
      client: { maxDelayMs: config.maxDelayMs },
      log,
    });
    const baseline = new BaselinePoller(manager, { log });
    const s: Started = {
      manager,
      baseline,
      watcher,
      status: new StatusBar(manager),
      diagnostics: new AlertDiagnostics(manager, () => config, openLocation, (endpointId) => dashboard.show({ endpointId })),
      lenses: new RouteCodeLensProvider(manager, () => config, baseline),
      findings: new FindingDiagnostics(manager, () => config),
    };
    started = s;
    tree.attach(manager);
    findingsTree.attach(manager);
    context.subscriptions.push(
      { dispose: () => watcher.close() },
      { dispose: () => manager.dispose() },
      baseline,
      s.status,
      s.diagnostics,
      s.lenses,
      s.findings,
      { dispose: () => lensRegistration?.dispose() },
      manager.onEvent((e) => {
        if (e.kind === 'state') log(`${e.id}: ${e.state}`);
      }),
    );
    watcher.onChange(() => {
      if (config.autoConnect) manager.autoConnect(visible(watcher));
    });
    watcher.start();
    updateLensRegistration();
    void vscode.commands.executeCommand('setContext', 'routelens.active', true);
    return s;
  }

  const services: Services = {
    context,
    output,
    get config() {
      return config;
    },
    set config(c) {
      config = c;
    },
    ensureStarted,
    openDashboard: (options) => {
      ensureStarted();
      dashboard.show(options);
    },
    showProfile: (agentId, summary) => {
      ensureStarted();
      dashboard.showProfile(agentId, summary);
    },
    log,
  };

  context.subscriptions.push(
    ...registerCommands(services),
    ...registerLanguageModelTools(services),
    ...registerMcpServerProvider(services),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      const before = config;
      config = readConfig();
      if (!started) return;
      if (e.affectsConfiguration(`${SECTION}.discoveryDir`) && before.discoveryDir !== config.discoveryDir) log('routelens.discoveryDir changed: reload the window to watch the new directory');
      updateLensRegistration();
      started.diagnostics.render();
      started.findings.render();
      if (config.autoConnect) started.manager.autoConnect(visible(started.watcher));
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      if (started && config.autoConnect) started.manager.autoConnect(visible(started.watcher));
    }),
  );

  // Auto-connect needs discovery running; otherwise wait for a command, the view or the dashboard.
  if (config.autoConnect) ensureStarted();

  return {
    state: () => {
      const m = started?.manager;
      return { agents: m?.summaries() ?? [], selected: m?.selected?.id ?? null, status: started?.status.text ?? '' };
    },
    manager: () => ensureStarted().manager,
    rescan: async () => {
      const s = ensureStarted();
      await s.watcher.rescan();
      if (config.autoConnect) s.manager.autoConnect(visible(s.watcher));
    },
    dashboard: {
      isOpen: () => dashboard.isOpen,
      isReady: () => dashboard.isReady,
      posted: () => dashboard.posted,
      receive: (m) => dashboard.receive(m),
    },
    notifications: () => started?.diagnostics.notified ?? 0,
    tree: () => tree,
    findingsTree: () => findingsTree,
  };
}

export function deactivate(): void {
  // Everything is in context.subscriptions and disposed by VS Code.
}
