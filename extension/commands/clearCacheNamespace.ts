import * as vscode from 'vscode';
import { plainText } from '../core/text';
import { report, requireAgent, type Services } from '../services';
import { dryRunThenRun, removedText } from './confirm';
import { CommandId } from './ids';
import { promptOptions } from './prompt';

/** Args: `{ namespace, force? }`; else a pick of the agent's namespaces. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ClearCacheNamespace, (args?: { namespace?: string; force?: boolean }) =>
    report(s, 'clear namespace', async () => {
      const conn = requireAgent(s);
      let namespace = args?.namespace;
      if (namespace === undefined) {
        const list = conn.client.store.snapshot?.cache?.namespaces ?? [];
        if (!list.length) throw new Error('the agent reports no cache namespaces');
        namespace = (await vscode.window.showQuickPick(list.map((n) => ({ label: plainText(n.namespace || '(default)'), description: `${n.entries} entries`, ns: n.namespace })), { title: 'RouteLens: Clear Cache Namespace', ...promptOptions() }))?.ns;
      }
      if (namespace === undefined) return undefined;
      const ns = namespace;
      return dryRunThenRun(`clearing namespace ${ns || '(default)'}`, args?.force, (dryRun) => conn.client.request('cache.clearNamespace', { namespace: ns, dryRun }));
    }, removedText),
  );
}
