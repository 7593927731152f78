/** Explorer view: agents → endpoints grouped by router prefix, alerts, cache namespaces. */
import * as vscode from 'vscode';
import { assertNever, formatCount } from '../../protocol';
import { endpointSummary } from '../core/format';
import type { AgentConnection, AgentManager } from '../core/manager';
import { plainText } from '../core/text';
import { CommandId } from '../commands/ids';
import { throttle } from './throttle';

export type Node =
  | { kind: 'agent'; agentId: string }
  | { kind: 'group'; agentId: string; group: 'endpoints' | 'alerts' | 'cache' }
  | { kind: 'prefix'; agentId: string; prefix: string }
  | { kind: 'endpoint'; agentId: string; endpointId: string }
  | { kind: 'alert'; agentId: string; alertId: string }
  | { kind: 'namespace'; agentId: string; namespace: string };

/** `/users/:id` → `/users`; `/` and templates without a static first segment → `/`. */
export function routerPrefix(route: string): string {
  const seg = route.split('/').filter(Boolean)[0];
  return seg && !seg.startsWith(':') && !seg.startsWith('(') ? `/${seg}` : '/';
}

export class RouteLensTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly refresh = throttle(() => this.changed.fire(undefined), 1000);
  private sub: { dispose(): void } | undefined;
  private manager: AgentManager | undefined;

  /** Registered at activation; shows nothing (the welcome text) until the manager is attached. */
  attach(manager: AgentManager): void {
    if (this.manager) return;
    this.manager = manager;
    this.sub = manager.onEvent((e) => (e.kind === 'delta' ? this.refresh() : this.changed.fire(undefined)));
    this.changed.fire(undefined);
  }

  private conn(id: string): AgentConnection | undefined {
    return this.manager?.get(id);
  }

  getChildren(node?: Node): Node[] {
    if (!this.manager) return [];
    if (!node) return this.manager.all.map((c) => ({ kind: 'agent', agentId: c.id }));
    const snap = this.conn(node.agentId)?.client.store.snapshot;
    switch (node.kind) {
      case 'agent':
        return snap ? [{ kind: 'group', agentId: node.agentId, group: 'endpoints' }, { kind: 'group', agentId: node.agentId, group: 'alerts' }, ...(snap.cache ? [{ kind: 'group', agentId: node.agentId, group: 'cache' } as Node] : [])] : [];
      case 'group':
        if (!snap) return [];
        if (node.group === 'endpoints') return [...new Set(snap.endpoints.map((e) => routerPrefix(e.route)))].sort().map((prefix) => ({ kind: 'prefix', agentId: node.agentId, prefix }));
        if (node.group === 'alerts') return snap.alerts.map((a) => ({ kind: 'alert', agentId: node.agentId, alertId: a.id }));
        return (snap.cache?.namespaces ?? []).map((n) => ({ kind: 'namespace', agentId: node.agentId, namespace: n.namespace }));
      case 'prefix':
        return (snap?.endpoints ?? [])
          .filter((e) => routerPrefix(e.route) === node.prefix)
          .sort((a, b) => a.route.localeCompare(b.route) || a.method.localeCompare(b.method))
          .map((e) => ({ kind: 'endpoint', agentId: node.agentId, endpointId: e.id }));
      case 'endpoint':
      case 'alert':
      case 'namespace':
        return []; // leaves
      default:
        return assertNever(node, 'tree node');
    }
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const conn = this.conn(node.agentId);
    const snap = conn?.client.store.snapshot;
    const None = vscode.TreeItemCollapsibleState.None;
    const Collapsed = vscode.TreeItemCollapsibleState.Collapsed;
    switch (node.kind) {
      case 'agent': {
        const item = new vscode.TreeItem(plainText(conn?.label ?? '?'), vscode.TreeItemCollapsibleState.Expanded);
        item.description = conn?.client.state === 'connected' ? `${snap?.health.status ?? ''} · pid ${snap?.agent.pid ?? '?'}` : conn?.client.state;
        item.iconPath = new vscode.ThemeIcon(conn?.client.state === 'connected' ? 'pulse' : 'sync');
        item.contextValue = 'routelens.agent';
        item.tooltip = plainText(snap?.agent.cwd ?? conn?.record?.cwd ?? '');
        return item;
      }
      case 'group': {
        const label = { endpoints: 'Endpoints', alerts: 'Alerts', cache: 'Cache namespaces' }[node.group];
        const item = new vscode.TreeItem(label, node.group === 'endpoints' ? vscode.TreeItemCollapsibleState.Expanded : Collapsed);
        if (node.group === 'alerts') item.description = String(snap?.alerts.length ?? 0);
        item.iconPath = new vscode.ThemeIcon({ endpoints: 'symbol-method', alerts: 'warning', cache: 'database' }[node.group]);
        return item;
      }
      case 'prefix':
        return new vscode.TreeItem(plainText(node.prefix), vscode.TreeItemCollapsibleState.Expanded);
      case 'endpoint': {
        const e = snap?.endpoints.find((x) => x.id === node.endpointId);
        const item = new vscode.TreeItem(plainText(node.endpointId), None);
        if (e) {
          const summary = endpointSummary(e);
          item.description = summary.description;
          item.tooltip = summary.tooltip;
        }
        item.command = { title: 'Open in dashboard', command: CommandId.OpenDashboard, arguments: [{ endpointId: node.endpointId, agentId: node.agentId }] };
        item.contextValue = 'routelens.endpoint';
        return item;
      }
      case 'alert': {
        const a = snap?.alerts.find((x) => x.id === node.alertId);
        const item = new vscode.TreeItem(plainText(a?.message ?? node.alertId), None);
        item.description = a?.severity;
        item.iconPath = new vscode.ThemeIcon(a?.severity === 'critical' ? 'error' : 'warning');
        item.command = { title: 'Open alerts', command: CommandId.OpenDashboard, arguments: [{ tab: 'alerts', agentId: node.agentId }] };
        return item;
      }
      case 'namespace': {
        const n = snap?.cache?.namespaces.find((x) => x.namespace === node.namespace);
        const item = new vscode.TreeItem(plainText(node.namespace || '(default)'), None);
        item.description = n ? `${formatCount(n.entries)} entries` : '';
        return item;
      }
    }
  }

  dispose(): void {
    this.refresh.dispose();
    this.sub?.dispose();
    this.changed.dispose();
  }
}
