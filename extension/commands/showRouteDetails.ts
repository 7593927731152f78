import * as vscode from 'vscode';
import { report, requireAgent, type Services } from '../services';
import { CommandId } from './ids';
import { pickEndpoint } from './pickEndpoint';

/** Args: `{ endpointId, agentId? }` (a lens, the Findings view), else a pick. Opens the dashboard's Route Details of that endpoint. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ShowRouteDetails, (args?: { endpointId?: string; agentId?: string }) =>
    report(s, 'show route details', async () => {
      const conn = requireAgent(s, typeof args?.agentId === 'string' ? args.agentId : undefined);
      const endpointId = typeof args?.endpointId === 'string' ? args.endpointId : await pickEndpoint(conn, 'Show Route Details');
      if (!endpointId) return undefined;
      s.openDashboard({ endpointId, agentId: conn.id, details: true });
      return endpointId;
    }),
  );
}
