import * as vscode from 'vscode';
import { report, requireAgent, type Services } from '../services';
import { CommandId } from './ids';

/** Args: `{ agentId? }` (default: the selected agent). Returns `{ paused: true }`. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.PauseMeasuring, (args?: { agentId?: string }) => setMeasuring(s, true, args?.agentId));
}

/** Runs `measuring.set` on an agent and reports it ("RouteLens: measuring paused on shop-api"). */
export function setMeasuring(s: Services, paused: boolean, agentId?: string): Promise<{ paused: boolean } | undefined> {
  let label = '';
  return report(
    s,
    paused ? 'pause measuring' : 'resume measuring',
    async () => {
      const conn = requireAgent(s, agentId);
      label = conn.label;
      return conn.client.request('measuring.set', { paused });
    },
    (r) => `measuring ${r.paused ? 'paused' : 'resumed'} on ${label}`,
  );
}
