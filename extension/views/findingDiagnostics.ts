/**
 * Findings as Problems-panel diagnostics at their line (Warning or
 * Information by severity, source "RouteLens", code the finding's kind),
 * re-rendered whenever an agent's findings change, and gone when a finding
 * goes or its agent is no longer connected.
 */
import * as vscode from 'vscode';
import type { Finding } from '../../protocol';
import { mapRemotePath } from '../core/discovery';
import { diagnosticMessage } from '../core/findings';
import type { AgentConnection, AgentManager } from '../core/manager';
import type { RouteLensConfig } from '../config';

/** The connected agents' findings (a disconnected agent's findings are not shown). */
export function liveFindings(manager: AgentManager): Array<{ conn: AgentConnection; finding: Finding }> {
  const out: Array<{ conn: AgentConnection; finding: Finding }> = [];
  for (const conn of manager.all) {
    if (conn.client.state !== 'connected') continue;
    for (const finding of conn.client.store.snapshot?.findings ?? []) out.push({ conn, finding });
  }
  return out;
}

export class FindingDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('routelens-findings');
  private readonly sub: { dispose(): void };

  constructor(
    private readonly manager: AgentManager,
    private readonly getConfig: () => RouteLensConfig,
  ) {
    this.sub = manager.onEvent((e) => {
      if (e.kind === 'snapshot' || e.kind === 'agents' || e.kind === 'state' || (e.kind === 'delta' && e.delta.findings)) this.render();
    });
    this.render();
  }

  render(): void {
    const mappings = this.getConfig().pathMappings;
    const many = this.manager.all.length > 1;
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const { conn, finding: f } of liveFindings(this.manager)) {
      const line = Math.max(0, f.location.line - 1);
      const d = new vscode.Diagnostic(
        new vscode.Range(line, Math.max(0, f.location.column - 1), line, Number.MAX_SAFE_INTEGER),
        diagnosticMessage(f, many ? conn.label : undefined),
        f.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information,
      );
      d.source = 'RouteLens';
      d.code = f.kind;
      const file = mapRemotePath(f.location.file, mappings);
      const list = byFile.get(file);
      if (list) list.push(d);
      else byFile.set(file, [d]);
    }
    this.collection.clear();
    for (const [file, list] of byFile) this.collection.set(vscode.Uri.file(file), list);
  }

  dispose(): void {
    this.sub.dispose();
    this.collection.dispose();
  }
}
