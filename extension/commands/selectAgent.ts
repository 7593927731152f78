import * as vscode from 'vscode';
import { report, type Services } from '../services';
import { CommandId } from './ids';
import { promptOptions } from './prompt';

/** Args: `{ agentId }`. Chooses the agent the dashboard, status bar and commands act on. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.SelectAgent, (args?: { agentId?: string }) =>
    report(s, 'select agent', async () => {
      const { manager } = s.ensureStarted();
      let id = args?.agentId;
      if (!id) {
        const all = manager.all;
        if (!all.length) throw new Error('no agent is connected');
        id = (await vscode.window.showQuickPick(all.map((c) => ({ label: c.label, description: `${c.client.state}${c.id === manager.selected?.id ? ' · selected' : ''}`, detail: c.record?.cwd, id: c.id })), { title: 'RouteLens: Select Agent', ...promptOptions() }))?.id;
      }
      if (!id) return undefined;
      if (!manager.select(id)) throw new Error(`no connection ${id}`);
      return manager.get(id)?.label ?? id;
    }, (label) => `showing ${label}`),
  );
}
