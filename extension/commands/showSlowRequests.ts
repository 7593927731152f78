import * as vscode from 'vscode';
import type { SlowRequest } from '../../protocol';
import { formatMs } from '../../protocol';
import { plainText } from '../core/text';
import { report, requireAgent, type Services } from '../services';
import { CommandId } from './ids';
import { promptOptions } from './prompt';

/** Args: `{ pick: false }` returns the list without UI. Picking one opens its endpoint in the dashboard. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ShowSlowRequests, (args?: { pick?: boolean }) =>
    report<SlowRequest[]>(s, 'show slow requests', async () => {
      const conn = requireAgent(s);
      const slow = [...(conn.client.store.snapshot?.slowRequests ?? [])].sort((a, b) => b.duration - a.duration);
      if (args?.pick === false) return slow;
      if (!slow.length) {
        void vscode.window.showInformationMessage('RouteLens: no slow requests recorded yet');
        return slow;
      }
      const pick = await vscode.window.showQuickPick(
        slow.map((r) => ({ label: `${formatMs(r.duration)}  ${plainText(`${r.method} ${r.path}`)}`, description: `${r.status} · ${r.severity} · ${new Date(r.time).toLocaleTimeString()}`, endpointId: `${r.method} ${r.route}` })),
        { title: `RouteLens: Slow Requests (${conn.label})`, matchOnDescription: true, ...promptOptions() },
      );
      if (pick) s.openDashboard({ endpointId: pick.endpointId, agentId: conn.id });
      return slow;
    }),
  );
}
