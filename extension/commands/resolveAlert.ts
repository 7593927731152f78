import * as vscode from 'vscode';
import { plainText } from '../core/text';
import { report, requireAgent, type Services } from '../services';
import { CommandId } from './ids';
import { promptOptions } from './prompt';

/** Args: `{ id }`; else a pick of firing alerts. Returns the resolved alert. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ResolveAlert, (args?: { id?: string }) =>
    report(s, 'resolve alert', async () => {
      const conn = requireAgent(s);
      let id = args?.id;
      if (!id) {
        const alerts = conn.client.store.snapshot?.alerts ?? [];
        if (!alerts.length) throw new Error('no alert is firing');
        id = (await vscode.window.showQuickPick(alerts.map((a) => ({ label: plainText(a.message), description: `${a.severity} · ${plainText(a.target)}`, id: a.id })), { title: 'RouteLens: Resolve Alert', ...promptOptions() }))?.id;
      }
      if (!id) return undefined;
      return conn.client.request('alerts.resolve', { id });
    }, (a) => `resolved "${plainText(a.message, 80)}"`),
  );
}
