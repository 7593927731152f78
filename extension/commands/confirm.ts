import * as vscode from 'vscode';
import type { InvalidateResult } from '../../protocol';
import { report, requireAgent, type Services } from '../services';
import { CONFIRM_OVER_KEYS, type CommandId } from './ids';
import { promptOptions } from './prompt';

/**
 * Dry run first; when more than CONFIRM_OVER_KEYS keys would go, ask (modal)
 * unless `force`. Returns the real result, or undefined when cancelled.
 */
export async function dryRunThenRun(what: string, force: boolean | undefined, run: (dryRun: boolean) => Promise<InvalidateResult>): Promise<InvalidateResult | undefined> {
  const dry = await run(true);
  if (dry.removed === 0) return { removed: 0, dryRun: false };
  if (dry.removed > CONFIRM_OVER_KEYS && !force) {
    const ok = await vscode.window.showWarningMessage(`RouteLens: ${what} will remove ${dry.removed}${dry.partial ? '+' : ''} keys. Continue?`, { modal: true }, 'Remove');
    if (ok !== 'Remove') return undefined;
  }
  return run(false);
}

export const removedText = (r: InvalidateResult) => `removed ${r.removed} key${r.removed === 1 ? '' : 's'}${r.partial ? ' (stopped at the time limit; run again for the rest)' : ''}`;

/**
 * `cache.invalidate` by one field (`pattern` or `tag`): args `{ [field], force? }`,
 * else an input box; dry run first, confirmation over the threshold.
 */
export function registerInvalidateBy(s: Services, id: CommandId, field: 'pattern' | 'tag', title: string, placeHolder: string): vscode.Disposable {
  return vscode.commands.registerCommand(id, (args?: { pattern?: string; tag?: string; force?: boolean }) =>
    report(s, `invalidate by ${field}`, async () => {
      const conn = requireAgent(s);
      const value = args?.[field] ?? (await vscode.window.showInputBox({ title, placeHolder, ...promptOptions(), validateInput: (v) => (v.length > 0 && v.length <= 512 ? undefined : '1–512 characters') }));
      if (!value) return undefined;
      return dryRunThenRun(`${field} ${value}`, args?.force, (dryRun) => conn.client.request('cache.invalidate', { [field]: value, dryRun }));
    }, removedText),
  );
}
