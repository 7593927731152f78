import * as vscode from 'vscode';
import { SECTION } from '../config';
import { report, type Services } from '../services';
import { CommandId } from './ids';

/** Args: `{ enabled }` to set instead of toggling. Writes the user setting routelens.codeLens.enabled; returns the new value. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ToggleCodeLenses, (args?: { enabled?: boolean }) =>
    report(s, 'toggle code lenses', async () => {
      const c = vscode.workspace.getConfiguration(SECTION);
      const next = typeof args?.enabled === 'boolean' ? args.enabled : !c.get<boolean>('codeLens.enabled', true);
      await c.update('codeLens.enabled', next, vscode.ConfigurationTarget.Global);
      return next;
    }, (on) => `code lenses ${on ? 'on' : 'off'}`),
  );
}
