import * as vscode from 'vscode';
import type { Services } from '../services';
import { CommandId } from './ids';
import { setMeasuring } from './pauseMeasuring';

/** Args: `{ agentId? }` (default: the selected agent). Returns `{ paused: false }`. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ResumeMeasuring, (args?: { agentId?: string }) => setMeasuring(s, false, args?.agentId));
}
