/** The status bar item: selected agent's name, req/s now, worst p95 over the last minute and health (or "paused"); coloured by health; opens the dashboard. */
import * as vscode from 'vscode';
import { statusText, statusTooltip } from '../core/format';
import type { AgentManager } from '../core/manager';
import { CommandId } from '../commands/ids';
import { throttle } from './throttle';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('routelens.status', vscode.StatusBarAlignment.Left, 50);
  private readonly update = throttle(() => this.render(), 1000);
  private readonly sub: { dispose(): void };

  constructor(private readonly manager: AgentManager) {
    this.item.name = 'RouteLens';
    this.item.command = CommandId.OpenDashboard;
    this.sub = manager.onEvent((e) => (e.kind === 'delta' ? this.update() : this.render()));
    this.render();
    this.item.show();
  }

  get text(): string {
    return this.item.text;
  }

  render(): void {
    const conn = this.manager.selected;
    const snap = conn?.client.store.snapshot;
    let bg: vscode.ThemeColor | undefined;
    if (!conn) {
      this.item.text = '$(circle-slash) RouteLens: no agent';
      this.item.tooltip = 'No RouteLens agent found. Start your app with the agent, or click to open the dashboard.';
    } else if (conn.client.state !== 'connected' || !snap) {
      this.item.text = `$(sync~spin) RouteLens: ${conn.label} reconnecting…`;
      this.item.tooltip = `${conn.label}: ${conn.client.state}`;
      bg = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else if (snap.paused === true) {
      this.item.text = `$(debug-pause) RouteLens: ${conn.label} paused`;
      this.item.tooltip = `RouteLens: measuring is paused on ${conn.label} (pid ${snap.agent.pid}) — run "RouteLens: Resume Measuring" to measure again`;
      bg = new vscode.ThemeColor('statusBarItem.warningBackground');
    } else {
      const health = snap.health?.status;
      const now = conn.client.store.nowRate;
      this.item.text = `$(pulse) ${statusText(conn.label, snap.system, snap.endpoints, snap.health, now)}`;
      this.item.tooltip = statusTooltip(conn.label, snap.agent.pid, snap.system, snap.endpoints, now);
      if (health === 'degraded') bg = new vscode.ThemeColor('statusBarItem.warningBackground');
      if (health === 'unhealthy') bg = new vscode.ThemeColor('statusBarItem.errorBackground');
    }
    this.item.backgroundColor = bg;
  }

  dispose(): void {
    this.update.dispose();
    this.sub.dispose();
    this.item.dispose();
  }
}
