import * as vscode from 'vscode';
import { plainText } from '../core/text';
import { report, requireAgent, type Services } from '../services';
import { CommandId } from './ids';
import { promptOptions } from './prompt';

/** Args: `{ endpoint }` for one endpoint, `{ all: true }` for all; else a pick. Returns `{ reset }`. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ResetMetrics, (args?: { endpoint?: string; all?: boolean }) =>
    report(s, 'reset metrics', async () => {
      const conn = requireAgent(s);
      let endpoint = args?.endpoint;
      if (!endpoint && !args?.all) {
        const endpoints = conn.client.store.snapshot?.endpoints ?? [];
        const ALL = '\u0000all';
        const pick = await vscode.window.showQuickPick(
          [{ label: '$(clear-all) All endpoints', id: ALL }, ...endpoints.map((e) => ({ label: plainText(e.id), description: `${e.count} req`, id: e.id }))],
          { title: `RouteLens: Reset Metrics (${conn.label})`, ...promptOptions() },
        );
        if (!pick) return undefined;
        endpoint = pick.id === ALL ? undefined : pick.id;
      }
      return conn.client.request('reset', endpoint ? { endpoint } : {});
    }, (r) => `reset ${r.reset} endpoint${r.reset === 1 ? '' : 's'}`),
  );
}
