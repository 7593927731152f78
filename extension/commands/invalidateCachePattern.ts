import * as vscode from 'vscode';
import { report, requireAgent, type Services } from '../services';
import { dryRunThenRun, removedText } from './confirm';
import { CommandId } from './ids';

/** Args: `{ pattern, force? }` (glob: `*` and `?`). Dry run first; confirms over the threshold unless force. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.InvalidateCachePattern, (args?: { pattern?: string; force?: boolean }) =>
    report(s, 'invalidate by pattern', async () => {
      const conn = requireAgent(s);
      const pattern = args?.pattern ?? (await vscode.window.showInputBox({ title: 'RouteLens: Invalidate Cache Keys Matching', placeHolder: 'user:*', validateInput: (v) => (v.length > 0 && v.length <= 512 ? undefined : '1–512 characters') }));
      if (!pattern) return undefined;
      return dryRunThenRun(`pattern ${pattern}`, args?.force, (dryRun) => conn.client.request('cache.invalidate', { pattern, dryRun }));
    }, removedText),
  );
}
