/**
 * Code lenses above every route registration the agent reports (count 0
 * included) and at the handler when it is elsewhere. Titles from the compiled
 * format; clicking opens the dashboard on that endpoint. Which file shows
 * which endpoint is kept in a LensIndex, updated by each delta in proportion
 * to what it touched; figures are read by id from the agent's store. A delta
 * asks VS Code for new lenses (at most once a second) only when it touched an
 * endpoint shown in a visible editor. Lines follow edits (LineTracker) until
 * the next snapshot (server restart) re-syncs them.
 */
import * as vscode from 'vscode';
import { LensIndex } from '../core/lensIndex';
import { LineTracker } from '../core/lines';
import type { AgentManager, ManagerEvent } from '../core/manager';
import { assertNever } from '../../protocol';
import { CommandId } from '../commands/ids';
import { baselineLensTitle, baselineTooltip, lensTooltip } from '../core/format';
import type { BaselinePoller } from '../core/baseline';
import type { RouteLensConfig } from '../config';
import { throttle } from './throttle';
import { whyLenses } from './whyLenses';

export const LENS_LANGUAGES = ['javascript', 'typescript', 'javascriptreact', 'typescriptreact'];

const fileKey = (f: string) => (process.platform === 'win32' ? f.toLowerCase() : f);

export class RouteCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly tracker = new LineTracker();
  private readonly index = new LensIndex(fileKey);
  /** Files with lenses changed by deltas since VS Code was last asked to refresh. */
  private readonly staleFiles = new Set<string>();
  /** Agents came, went or changed state: every lens may have changed. */
  private allStale = false;
  private readonly fire = throttle(() => this.fireIfVisible(), 1000);
  private readonly disposables: vscode.Disposable[] = [];
  private editSub: vscode.Disposable | undefined;
  private lastLocations = '';

  constructor(
    private readonly manager: AgentManager,
    private readonly getConfig: () => RouteLensConfig,
    baseline?: BaselinePoller,
  ) {
    this.index.setMappings(getConfig().pathMappings);
    this.syncAgents();
    this.disposables.push(
      { dispose: manager.onEvent((e) => this.onManager(e)).dispose },
      vscode.workspace.onDidCloseTextDocument((d) => this.tracker.reset(fileKey(d.uri.fsPath))),
    );
    // A new comparison may add, change or remove the baseline lens of any route.
    if (baseline) {
      this.disposables.push(
        baseline.onChange(() => {
          this.allStale = true;
          this.fire();
        }),
      );
    }
    this.updateEditSubscription();
  }

  private onManager(e: ManagerEvent): void {
    switch (e.kind) {
      case 'snapshot': {
        // A restart with moved registrations: the agent's lines are current again.
        // (A resync with the same lines keeps the edits tracked since.)
        const sig = this.locationSignature();
        if (sig !== this.lastLocations) this.tracker.reset();
        this.lastLocations = sig;
        this.index.setAgent(e.id, e.snapshot.endpoints);
        this.changed.fire();
        return;
      }
      case 'delta':
        for (const f of this.index.applyDelta(e.id, e.delta)) this.staleFiles.add(f);
        if (e.delta.findings) this.allStale = true;
        if (this.staleFiles.size || this.allStale) this.fire();
        return;
      case 'agents':
      case 'selected':
        this.syncAgents();
        this.updateEditSubscription();
        this.allStale = true;
        this.fire();
        return;
      case 'state':
        return;
      default:
        assertNever(e, 'manager event');
    }
  }

  /** Indexes agents that appeared, forgets those gone. */
  private syncAgents(): void {
    const live = new Set<string>();
    for (const conn of this.manager.all) {
      live.add(conn.id);
      if (!this.index.agentIds().includes(conn.id)) this.index.setAgent(conn.id, conn.client.store.snapshot?.endpoints ?? []);
    }
    for (const id of this.index.agentIds()) if (!live.has(id)) this.index.removeAgent(id);
  }

  /** Asks VS Code for new lenses only when a file whose lenses changed is on screen. */
  private fireIfVisible(): void {
    const visible = this.allStale || vscode.window.visibleTextEditors.some((ed) => this.staleFiles.has(fileKey(ed.document.uri.fsPath)));
    this.staleFiles.clear();
    this.allStale = false;
    if (visible) this.changed.fire();
  }

  private locationSignature(): string {
    const parts: string[] = [];
    for (const conn of this.manager.all) {
      for (const e of conn.client.store.snapshot?.endpoints ?? []) {
        if (e.location) parts.push(`${conn.id}|${e.id}|${e.location.file}:${e.location.line}|${e.handlerLocation?.file ?? ''}:${e.handlerLocation?.line ?? ''}`);
      }
    }
    return parts.sort().join('\n');
  }

  /** Subscribe to document edits only while there is something to track. */
  private updateEditSubscription(): void {
    const need = this.manager.all.length > 0;
    if (need && !this.editSub) {
      this.editSub = vscode.workspace.onDidChangeTextDocument((e) => {
        if (!e.contentChanges.length) return;
        const anchors = this.anchorsFor(e.document.uri.fsPath);
        if (!anchors.length) return;
        this.tracker.onEdit(
          fileKey(e.document.uri.fsPath),
          anchors,
          e.contentChanges.map((c) => ({ startLine: c.range.start.line, startCharacter: c.range.start.character, endLine: c.range.end.line, endCharacter: c.range.end.character, text: c.text })),
        );
      });
    } else if (!need && this.editSub) {
      this.editSub.dispose();
      this.editSub = undefined;
    }
  }

  /** Configuration changed (format, enabled, mappings). */
  refresh(): void {
    this.index.setMappings(this.getConfig().pathMappings);
    this.syncAgents();
    this.changed.fire();
  }

  private anchorsFor(fsPath: string) {
    return this.index.anchorsFor(fileKey(fsPath));
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const config = this.getConfig();
    if (!config.codeLensEnabled) return [];
    const anchors = this.anchorsFor(document.uri.fsPath);
    const lenses: vscode.CodeLens[] = [];
    const key = fileKey(document.uri.fsPath);
    for (const a of anchors) {
      const store = this.manager.get(a.agentId)?.client.store;
      const endpoint = store?.endpoint(a.endpointId);
      if (!store || !endpoint) continue;
      const line = Math.min(this.tracker.lineOf(key, a), Math.max(0, document.lineCount - 1));
      const range = document.lineAt(line).range;
      const comparison = store.baseline;
      const delta = comparison && store.baselineOf(a.endpointId);
      const vsBaseline = comparison && delta ? baselineTooltip(delta, comparison) : undefined;
      lenses.push(
        new vscode.CodeLens(range, {
          title: config.formatLens(endpoint),
          tooltip: [lensTooltip(endpoint, a.kind === 'handler'), vsBaseline].filter(Boolean).join('\n'),
          command: CommandId.OpenDashboard,
          arguments: [{ endpointId: a.endpointId, agentId: a.agentId }],
        }),
        ...whyLenses(range, a.agentId, a.endpointId, store?.snapshot?.findings),
      );
      const title = comparison && delta ? baselineLensTitle(delta, comparison) : undefined;
      if (title) {
        lenses.push(
          new vscode.CodeLens(range, {
            title,
            tooltip: `${vsBaseline}\nOpen this route's history in the RouteLens dashboard.`,
            command: CommandId.OpenDashboard,
            arguments: [{ endpointId: a.endpointId, agentId: a.agentId, tab: 'history' }],
          }),
        );
      }
    }
    return lenses;
  }

  dispose(): void {
    this.fire.dispose();
    this.editSub?.dispose();
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
