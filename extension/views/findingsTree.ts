/** The Findings view: the connected agents' findings grouped by endpoint; clicking one opens its line. */
import * as vscode from 'vscode';
import { assertNever } from '../../protocol';
import { CommandId } from '../commands/ids';
import { mapRemotePath } from '../core/discovery';
import { FINDING_LABELS, byEndpoint, findingTitle, shortLocation } from '../core/findings';
import type { AgentManager } from '../core/manager';
import { plainText } from '../core/text';
import type { RouteLensConfig } from '../config';
import { liveFindings } from './findingDiagnostics';
import { throttle } from './throttle';

export type FindingNode = { kind: 'endpoint'; agentId: string; endpoint: string } | { kind: 'finding'; agentId: string; findingId: string };

export class FindingsTree implements vscode.TreeDataProvider<FindingNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<FindingNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly refresh = throttle(() => this.changed.fire(undefined), 500);
  private sub: { dispose(): void } | undefined;
  private manager: AgentManager | undefined;

  constructor(private readonly getConfig: () => RouteLensConfig) {}

  /** Registered at activation; empty (the welcome text) until the manager is attached. */
  attach(manager: AgentManager): void {
    if (this.manager) return;
    this.manager = manager;
    this.sub = manager.onEvent((e) => {
      if (e.kind !== 'delta' || e.delta.findings) this.refresh();
    });
    this.changed.fire(undefined);
  }

  private groups(): Map<string, { agentId: string; endpoint: string; findings: ReturnType<typeof liveFindings> }> {
    const out = new Map<string, { agentId: string; endpoint: string; findings: ReturnType<typeof liveFindings> }>();
    if (!this.manager) return out;
    for (const item of liveFindings(this.manager)) {
      const key = `${item.conn.id}\u0000${item.finding.endpoint}`;
      const g = out.get(key) ?? { agentId: item.conn.id, endpoint: item.finding.endpoint, findings: [] };
      g.findings.push(item);
      out.set(key, g);
    }
    return out;
  }

  private finding(agentId: string, id: string) {
    return this.manager?.get(agentId)?.client.store.snapshot?.findings?.find((f) => f.id === id);
  }

  getChildren(node?: FindingNode): FindingNode[] {
    if (!node) return [...this.groups().values()].map((g) => ({ kind: 'endpoint', agentId: g.agentId, endpoint: g.endpoint }));
    switch (node.kind) {
      case 'endpoint': {
        const findings = this.manager?.get(node.agentId)?.client.store.snapshot?.findings ?? [];
        return (byEndpoint(findings).get(node.endpoint) ?? []).map((f) => ({ kind: 'finding', agentId: node.agentId, findingId: f.id }));
      }
      case 'finding':
        return [];
      default:
        return assertNever(node, 'findings node');
    }
  }

  getParent(node: FindingNode): FindingNode | undefined {
    if (node.kind === 'endpoint') return undefined;
    const f = this.finding(node.agentId, node.findingId);
    return f ? { kind: 'endpoint', agentId: node.agentId, endpoint: f.endpoint } : undefined;
  }

  getTreeItem(node: FindingNode): vscode.TreeItem {
    switch (node.kind) {
      case 'endpoint': {
        const conn = this.manager?.get(node.agentId);
        const n = (conn?.client.store.snapshot?.findings ?? []).filter((f) => f.endpoint === node.endpoint).length;
        const item = new vscode.TreeItem(plainText(node.endpoint), vscode.TreeItemCollapsibleState.Expanded);
        item.id = `e\u0000${node.agentId}\u0000${node.endpoint}`;
        item.description = `${n} finding${n === 1 ? '' : 's'}${(this.manager?.all.length ?? 0) > 1 ? ` · ${plainText(conn?.label ?? '')}` : ''}`;
        item.iconPath = new vscode.ThemeIcon('symbol-method');
        item.command = { title: 'Show Route Details', command: CommandId.ShowRouteDetails, arguments: [{ endpointId: node.endpoint, agentId: node.agentId }] };
        return item;
      }
      case 'finding': {
        const f = this.finding(node.agentId, node.findingId);
        if (!f) return new vscode.TreeItem('(gone)');
        const item = new vscode.TreeItem(findingTitle(f).replace(/^\S+ /, ''), vscode.TreeItemCollapsibleState.None);
        item.id = `f\u0000${node.agentId}\u0000${f.id}`;
        item.description = `${shortLocation(f.location)} · seen in ${f.occurrences} request${f.occurrences === 1 ? '' : 's'}`;
        item.tooltip = plainText(`${FINDING_LABELS[f.kind]}: ${f.message}\n\nTry: ${f.recommendation}${f.requestIds.length ? `\n\nRequests: ${f.requestIds.join(', ')}` : ''}`, 2000);
        item.iconPath = new vscode.ThemeIcon(f.severity === 'warning' ? 'warning' : 'info');
        const line = Math.max(0, f.location.line - 1);
        const col = Math.max(0, f.location.column - 1);
        item.command = {
          title: 'Open',
          command: 'vscode.open',
          arguments: [vscode.Uri.file(mapRemotePath(f.location.file, this.getConfig().pathMappings)), { selection: new vscode.Range(line, col, line, col), preview: true }],
        };
        item.contextValue = 'routelens.finding';
        return item;
      }
      default:
        return assertNever(node, 'findings node');
    }
  }

  dispose(): void {
    this.refresh.dispose();
    this.sub?.dispose();
    this.changed.dispose();
  }
}
