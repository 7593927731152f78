/**
 * The dashboard WebviewPanel host: one panel per window, strict CSP HTML,
 * resources only from dist/webview, command URIs off, no retained context
 * (the webview keeps its own state via setState), a serializer so it survives
 * reload. Posts nothing before the webview's `ready`; forwards the selected
 * agent's snapshot and deltas (≤ 4 updates/s).
 */
import * as vscode from 'vscode';
import { DASHBOARD_TABS, type DashboardTab, type HostToWebview, type ProfileSummary, type SourceLocation } from '../../protocol';
import { locationKey } from '../core/findings';
import { mapRemotePath } from '../core/discovery';
import type { AgentManager } from '../core/manager';
import type { RouteLensConfig } from '../config';
import { dashboardHtml } from './html';
import { DashboardRouter, UpdateThrottle } from './router';

export const DASHBOARD_VIEW_TYPE = 'routelens.dashboard';

export interface DashboardDeps {
  extensionUri: vscode.Uri;
  manager: () => AgentManager;
  config: () => RouteLensConfig;
  log: (line: string) => void;
}

export class DashboardPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private router: DashboardRouter | undefined;
  private throttle: UpdateThrottle | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private managerSub: { dispose(): void } | undefined;
  private pendingFocus: string | undefined;
  private pendingTab: DashboardTab | undefined;
  private pendingDetails: string | undefined;
  /** The latest route profiles (per agent and endpoint), posted again whenever the webview reloads. */
  private readonly profiles = new Map<string, { agentId: string; summary: ProfileSummary }>();
  /** Last messages posted (bounded), for tests and diagnostics. */
  readonly posted: HostToWebview[] = [];

  constructor(private readonly deps: DashboardDeps) {}

  static register(deps: DashboardDeps): { dashboard: DashboardPanel; disposable: vscode.Disposable } {
    const dashboard = new DashboardPanel(deps);
    const serializer = vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel) => {
        dashboard.attach(panel);
      },
    });
    return { dashboard, disposable: vscode.Disposable.from(serializer, dashboard) };
  }

  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  get isReady(): boolean {
    return this.router?.ready ?? false;
  }

  /** Feeds a message as if the webview sent it (tests). */
  receive(message: unknown): Promise<void> {
    return this.router ? this.router.receive(message) : Promise.resolve();
  }

  webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      enableCommandUris: false,
      enableForms: false,
      localResourceRoots: [vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'webview')],
      retainContextWhenHidden: false,
      enableFindWidget: true,
    };
  }

  show(options: { endpointId?: string; agentId?: string; tab?: string; details?: boolean } = {}): void {
    const manager = this.deps.manager();
    if (options.agentId) manager.select(options.agentId);
    if (options.endpointId && options.details) this.pendingDetails = options.endpointId;
    else if (options.endpointId) this.pendingFocus = options.endpointId;
    if (options.tab && (DASHBOARD_TABS as readonly string[]).includes(options.tab)) this.pendingTab = options.tab as DashboardTab;
    if (this.panel) {
      this.panel.reveal(undefined, false);
      this.flushFocus();
      return;
    }
    const panel = vscode.window.createWebviewPanel(DASHBOARD_VIEW_TYPE, 'RouteLens', { viewColumn: vscode.ViewColumn.Active, preserveFocus: false }, this.webviewOptions());
    this.attach(panel);
  }

  /** A route profile finished: kept (the latest 20) and listed in that endpoint's Route Details. */
  showProfile(agentId: string, summary: ProfileSummary): void {
    this.profiles.delete(`${agentId}\u0000${summary.endpoint}`);
    this.profiles.set(`${agentId}\u0000${summary.endpoint}`, { agentId, summary });
    if (this.profiles.size > 20) this.profiles.delete(this.profiles.keys().next().value!);
    this.show({ agentId, endpointId: summary.endpoint, details: true });
    this.postProfiles();
  }

  private postProfiles(): void {
    const router = this.router;
    const selected = this.deps.manager().selected?.id;
    if (!router?.ready || !selected) return;
    for (const p of this.profiles.values()) {
      if (p.agentId !== selected) continue;
      router.reported.addAll(p.summary.top);
      router.post({ type: 'profile', agentId: p.agentId, summary: p.summary });
    }
  }

  /** Locations of the selected agent's findings and endpoints. */
  private knownLocation(loc: SourceLocation): boolean {
    const snap = this.deps.manager().selected?.client.store.snapshot;
    if (!snap) return false;
    const key = locationKey(loc);
    const same = (l: SourceLocation | undefined) => l !== undefined && locationKey(l) === key;
    return (snap.findings ?? []).some((f) => same(f.location)) || snap.endpoints.some((e) => same(e.location) || same(e.handlerLocation));
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.panel = panel;
    panel.webview.options = this.webviewOptions();
    panel.iconPath = vscode.Uri.joinPath(this.deps.extensionUri, 'media', 'routelens.svg');
    const router = new DashboardRouter({
      post: (m) => this.postNow(m),
      request: (command, args) => {
        const conn = this.deps.manager().selected;
        if (!conn) return Promise.reject(new Error('no agent selected'));
        return conn.client.request(command, args as never);
      },
      endpointLocation: (id) => {
        const e = this.deps.manager().selected?.client.store.endpoint(id);
        return e?.handlerLocation ?? e?.location;
      },
      openLocation: (loc) => void openSourceLocation(loc, this.deps.config().pathMappings),
      knownLocation: (loc) => this.knownLocation(loc),
      selectAgent: (id) => this.deps.manager().select(id),
      ready: () => this.sendAll(),
      log: this.deps.log,
    });
    this.router = router;
    this.throttle = new UpdateThrottle((m) => router.post(m), 250);
    panel.webview.onDidReceiveMessage((m) => void router.receive(m), undefined, this.panelDisposables);
    panel.onDidDispose(() => this.detach(), undefined, this.panelDisposables);
    panel.onDidChangeViewState(
      (e) => {
        // retainContextWhenHidden is off: when shown again the webview reloads and says ready again.
        if (!e.webviewPanel.visible) router.reset();
      },
      undefined,
      this.panelDisposables,
    );
    const manager = this.deps.manager();
    this.managerSub = manager.onEvent((e) => {
      const selected = manager.selected?.id;
      switch (e.kind) {
        case 'snapshot':
          if (e.id === selected) this.throttle?.snapshot(e.id, e.snapshot);
          break;
        case 'delta':
          if (e.id === selected) this.throttle?.delta(e.id, e.delta);
          break;
        case 'agents':
        case 'state':
          this.postAgents();
          break;
        case 'selected':
          this.sendAll();
          break;
        default: {
          const never: never = e;
          void never;
        }
      }
    });
    const webview = panel.webview;
    const base = vscode.Uri.joinPath(this.deps.extensionUri, 'dist', 'webview');
    webview.html = dashboardHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(base, 'main.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(base, 'style.css')).toString(),
    });
  }

  private postNow(m: HostToWebview): void {
    this.posted.push(m);
    if (this.posted.length > 50) this.posted.splice(0, this.posted.length - 50);
    void this.panel?.webview.postMessage(m);
  }

  private postAgents(): void {
    const manager = this.deps.manager();
    this.router?.post({ type: 'agents', agents: manager.summaries(), selected: manager.selected?.id ?? null });
  }

  /** After ready or a selection change: agents, the selected snapshot, then any pending focus. */
  private sendAll(): void {
    if (!this.router?.ready) return;
    this.postAgents();
    const conn = this.deps.manager().selected;
    const snap = conn?.client.store.snapshot;
    this.throttle?.dispose();
    if (conn && snap) this.router.post({ type: 'snapshot', agentId: conn.id, snapshot: snap });
    this.postProfiles();
    this.flushFocus();
  }

  private flushFocus(): void {
    if (!this.router?.ready) return;
    // Focus first: it opens the Endpoints tab, and a tab asked for with it (History) comes after.
    if (this.pendingFocus) this.router.post({ type: 'focusEndpoint', endpointId: this.pendingFocus });
    if (this.pendingTab) this.router.post({ type: 'showTab', tab: this.pendingTab });
    if (this.pendingDetails) this.router.post({ type: 'showDetails', endpointId: this.pendingDetails });
    this.pendingFocus = this.pendingTab = this.pendingDetails = undefined;
  }

  private detach(): void {
    this.throttle?.dispose();
    this.managerSub?.dispose();
    for (const d of this.panelDisposables) d.dispose();
    this.panelDisposables = [];
    this.panel = this.router = this.throttle = this.managerSub = undefined;
  }

  dispose(): void {
    const p = this.panel;
    this.detach();
    p?.dispose();
  }
}

/** Opens a reported source location (mapped to this machine) in an editor. */
export async function openSourceLocation(loc: SourceLocation, mappings: RouteLensConfig['pathMappings']): Promise<void> {
  const uri = vscode.Uri.file(mapRemotePath(loc.file, mappings));
  const pos = new vscode.Position(Math.max(0, loc.line - 1), Math.max(0, loc.column - 1));
  await vscode.window.showTextDocument(uri, { selection: new vscode.Range(pos, pos), preview: true });
}
