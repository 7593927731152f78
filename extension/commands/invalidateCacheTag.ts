import * as vscode from 'vscode';
import { report, requireAgent, type Services } from '../services';
import { dryRunThenRun, removedText } from './confirm';
import { CommandId } from './ids';

/** Args: `{ tag, force? }`. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.InvalidateCacheTag, (args?: { tag?: string; force?: boolean }) =>
    report(s, 'invalidate by tag', async () => {
      const conn = requireAgent(s);
      const tag = args?.tag ?? (await vscode.window.showInputBox({ title: 'RouteLens: Invalidate Cache Tag', placeHolder: 'user:42', validateInput: (v) => (v.length > 0 && v.length <= 512 ? undefined : '1–512 characters') }));
      if (!tag) return undefined;
      return dryRunThenRun(`tag ${tag}`, args?.force, (dryRun) => conn.client.request('cache.invalidate', { tag, dryRun }));
    }, removedText),
  );
}
