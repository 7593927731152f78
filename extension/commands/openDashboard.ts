import * as vscode from 'vscode';
import type { Services } from '../services';
import { CommandId } from './ids';

/** Args: `{ endpointId?, agentId?, tab? }` — a code lens passes its endpoint. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.OpenDashboard, (args?: { endpointId?: unknown; agentId?: unknown; tab?: unknown }) => {
    s.ensureStarted();
    const str = (v: unknown) => (typeof v === 'string' && v.length <= 2048 ? v : undefined);
    s.openDashboard({ endpointId: str(args?.endpointId), agentId: str(args?.agentId), tab: str(args?.tab) });
    return true;
  });
}
