import * as vscode from 'vscode';
import { normalizeAgentUrl } from '../core/client';
import { report, type Services } from '../services';
import { CommandId } from './ids';
import { promptOptions } from './prompt';

/** Args: `{ key }` (a discovered agent's name@cwd) or `{ url, token }`. Returns the connection id. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.Connect, (args?: { key?: string; url?: string; token?: string }) =>
    report(s, 'connect', async () => {
      const { manager, watcher } = s.ensureStarted();
      const discovered = await watcher.rescan();
      if (args?.key) {
        const a = discovered.find((d) => d.key === args.key);
        if (!a) throw new Error(`no discovered agent ${args.key}`);
        return manager.connectDiscovered(a).id;
      }
      if (args?.url && args.token) return manager.connectManual(normalizeAgentUrl(args.url), args.token).id;
      type Item = vscode.QuickPickItem & { key?: string };
      const items: Item[] = discovered.map((d) => ({ label: d.record.name, description: `pid ${d.record.pid} · port ${d.record.port}`, detail: d.record.cwd, key: d.key }));
      items.push({ label: '$(plug) Enter URL and token…' });
      const pick = await vscode.window.showQuickPick(items, { title: 'RouteLens: Connect to Agent', placeHolder: discovered.length ? 'Pick a running agent' : 'No agent discovered', ...promptOptions() });
      if (!pick) return undefined;
      if (pick.key) {
        const a = discovered.find((d) => d.key === pick.key);
        return a ? manager.connectDiscovered(a).id : undefined;
      }
      const url = await vscode.window.showInputBox({ title: 'Agent URL', ...promptOptions(), placeHolder: 'ws://127.0.0.1:9464', validateInput: (v) => { try { normalizeAgentUrl(v); return undefined; } catch { return 'a ws:// or http:// URL'; } } });
      if (!url) return undefined;
      const token = await vscode.window.showInputBox({ title: 'Agent token', ...promptOptions(), password: true, validateInput: (v) => (v.length >= 16 ? undefined : 'at least 16 characters') });
      if (!token) return undefined;
      return manager.connectManual(normalizeAgentUrl(url), token).id;
    }, (id) => `connecting to ${id}`),
  );
}
