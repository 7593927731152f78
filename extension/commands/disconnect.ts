import * as vscode from 'vscode';
import { report, type Services } from '../services';
import { CommandId } from './ids';
import { promptOptions } from './prompt';

/** Args: `{ agentId }`; else the one connection, or a pick. Auto-connect leaves it alone afterwards. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.Disconnect, (args?: { agentId?: string }) =>
    report(s, 'disconnect', async () => {
      const { manager } = s.ensureStarted();
      let id = args?.agentId;
      if (!id) {
        const all = manager.all;
        if (all.length === 0) throw new Error('no agent is connected');
        if (all.length === 1) id = all[0].id;
        else id = (await vscode.window.showQuickPick(all.map((c) => ({ label: c.label, description: c.client.state, id: c.id })), { title: 'RouteLens: Disconnect', ...promptOptions() }))?.id;
      }
      if (!id) return undefined;
      const label = manager.get(id)?.label ?? id;
      if (!manager.disconnect(id)) throw new Error(`no connection ${id}`);
      return label;
    }, (label) => `disconnected from ${label}`),
  );
}
