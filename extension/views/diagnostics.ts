/**
 * Firing alerts as diagnostics at the route handler (Warning; Error for
 * critical), cleared when they resolve. Critical alerts (or all, per
 * `routelens.notifications`) raise a notification, at most one per 30 s.
 */
import * as vscode from 'vscode';
import type { Alert, SourceLocation } from '../../protocol';
import { mapRemotePath } from '../core/discovery';
import type { AgentManager } from '../core/manager';
import { plainText } from '../core/text';
import type { RouteLensConfig } from '../config';

export const NOTIFY_EVERY_MS = 30_000;

/** The location to mark for an alert: its own, else its target endpoint's handler or registration. */
export function alertLocation(alert: Alert, endpoints: ReadonlyArray<{ id: string; location?: SourceLocation; handlerLocation?: SourceLocation }>): SourceLocation | undefined {
  if (alert.location) return alert.location;
  const e = endpoints.find((x) => x.id === alert.target);
  return e?.handlerLocation ?? e?.location;
}

export class AlertDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('routelens');
  private readonly seen = new Set<string>();
  private lastNotified = -Infinity;
  private readonly sub: { dispose(): void };
  /** Notifications shown (for tests and the output channel). */
  notified = 0;

  constructor(
    private readonly manager: AgentManager,
    private readonly getConfig: () => RouteLensConfig,
    private readonly openLocation: (loc: SourceLocation) => void,
    private readonly openDashboard: (endpointId?: string) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.sub = manager.onEvent((e) => {
      if (e.kind === 'snapshot' || e.kind === 'agents' || (e.kind === 'delta' && (e.delta.alerts || e.delta.endpoints))) this.render();
    });
  }

  render(): void {
    const mappings = this.getConfig().pathMappings;
    const byFile = new Map<string, vscode.Diagnostic[]>();
    const firing = new Set<string>();
    for (const conn of this.manager.all) {
      const snap = conn.client.store.snapshot;
      if (!snap) continue;
      for (const alert of snap.alerts) {
        if (alert.state !== 'firing') continue;
        firing.add(`${conn.id}\u0000${alert.id}`);
        const loc = alertLocation(alert, snap.endpoints);
        if (loc) {
          const file = mapRemotePath(loc.file, mappings);
          const line = Math.max(0, loc.line - 1);
          const d = new vscode.Diagnostic(
            new vscode.Range(line, Math.max(0, loc.column - 1), line, Number.MAX_SAFE_INTEGER),
            plainText(`${alert.message} (${conn.label})`, 300),
            alert.severity === 'critical' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
          );
          d.source = 'RouteLens';
          d.code = alert.rule;
          const list = byFile.get(file);
          if (list) list.push(d);
          else byFile.set(file, [d]);
        }
        if (!this.seen.has(`${conn.id}\u0000${alert.id}`)) this.maybeNotify(alert, loc ? { ...loc, file: mapRemotePath(loc.file, mappings) } : undefined);
      }
    }
    this.seen.clear();
    for (const k of firing) this.seen.add(k);
    this.collection.clear();
    for (const [file, list] of byFile) this.collection.set(vscode.Uri.file(file), list);
  }

  private maybeNotify(alert: Alert, loc: SourceLocation | undefined): void {
    const level = this.getConfig().notifications;
    if (level === 'none' || (level === 'critical' && alert.severity !== 'critical')) return;
    const now = this.now();
    if (now - this.lastNotified < NOTIFY_EVERY_MS) return;
    this.lastNotified = now;
    this.notified++;
    const actions = loc ? ['Open Dashboard', 'Go to Handler'] : ['Open Dashboard'];
    const show = alert.severity === 'critical' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void show(`RouteLens: ${plainText(alert.message, 200)}`, ...actions).then((choice) => {
      if (choice === 'Open Dashboard') this.openDashboard(alert.target);
      else if (choice === 'Go to Handler' && loc) this.openLocation(loc);
    });
  }

  dispose(): void {
    this.sub.dispose();
    this.collection.dispose();
  }
}

