/**
 * Code lenses above every route registration the agent reports (count 0
 * included) and at the handler when it is elsewhere. Titles from the compiled
 * format; clicking opens the dashboard on that endpoint. Live figures are
 * throttled (onDidChangeCodeLenses at most once a second). Lines follow edits
 * (LineTracker) until the next snapshot (server restart) re-syncs them.
 */
import * as vscode from 'vscode';
import { type LensAnchor, LineTracker, anchorsByFile, lensAnchors } from '../core/lines';
import type { AgentManager } from '../core/manager';
import { CommandId } from '../commands/ids';
import type { RouteLensConfig } from '../config';
import { throttle } from './throttle';

export const LENS_LANGUAGES = ['javascript', 'typescript', 'javascriptreact', 'typescriptreact'];

const fileKey = (f: string) => (process.platform === 'win32' ? f.toLowerCase() : f);

interface AgentAnchor extends LensAnchor {
  agentId: string;
}

export class RouteCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly tracker = new LineTracker();
  private byFile = new Map<string, AgentAnchor[]>();
  private anchorsDirty = true;
  private readonly fire = throttle(() => this.changed.fire(), 1000);
  private readonly disposables: vscode.Disposable[] = [];
  private editSub: vscode.Disposable | undefined;
  private lastLocations = '';

  constructor(
    private readonly manager: AgentManager,
    private readonly getConfig: () => RouteLensConfig,
  ) {
    this.disposables.push(
      { dispose: manager.onEvent((e) => this.onManager(e.kind)).dispose },
      vscode.workspace.onDidCloseTextDocument((d) => this.tracker.reset(fileKey(d.uri.fsPath))),
    );
    this.updateEditSubscription();
  }

  private onManager(kind: string): void {
    if (kind === 'snapshot') {
      // A restart with moved registrations: the agent's lines are current again.
      // (A resync with the same lines keeps the edits tracked since.)
      const sig = this.locationSignature();
      if (sig !== this.lastLocations) this.tracker.reset();
      this.lastLocations = sig;
      this.anchorsDirty = true;
      this.changed.fire();
    } else if (kind === 'agents' || kind === 'selected') {
      this.anchorsDirty = true;
      this.updateEditSubscription();
      this.fire();
    } else if (kind === 'delta') {
      this.anchorsDirty = true; // deltas may add endpoints
      this.fire();
    }
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
    this.anchorsDirty = true;
    this.changed.fire();
  }

  private anchorsFor(fsPath: string): AgentAnchor[] {
    if (this.anchorsDirty) {
      const all: AgentAnchor[] = [];
      const mappings = this.getConfig().pathMappings;
      for (const conn of this.manager.all) {
        const endpoints = conn.client.store.snapshot?.endpoints ?? [];
        for (const a of lensAnchors(endpoints, mappings)) all.push({ ...a, agentId: conn.id });
      }
      this.byFile = anchorsByFile(all, fileKey) as Map<string, AgentAnchor[]>;
      this.anchorsDirty = false;
    }
    return this.byFile.get(fileKey(fsPath)) ?? [];
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const config = this.getConfig();
    if (!config.codeLensEnabled) return [];
    const anchors = this.anchorsFor(document.uri.fsPath);
    const lenses: vscode.CodeLens[] = [];
    const key = fileKey(document.uri.fsPath);
    for (const a of anchors) {
      const endpoint = this.manager.get(a.agentId)?.client.store.endpoint(a.endpointId);
      if (!endpoint) continue;
      const line = Math.min(this.tracker.lineOf(key, a), Math.max(0, document.lineCount - 1));
      const range = document.lineAt(line).range;
      lenses.push(
        new vscode.CodeLens(range, {
          title: config.formatLens(endpoint),
          tooltip: a.kind === 'handler' ? 'Handler of this route: open the RouteLens dashboard' : 'Open this route in the RouteLens dashboard',
          command: CommandId.OpenDashboard,
          arguments: [{ endpointId: a.endpointId, agentId: a.agentId }],
        }),
      );
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
