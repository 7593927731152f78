import * as vscode from 'vscode';
import type { InvalidateResult } from '../../protocol';
import { CONFIRM_OVER_KEYS } from './ids';

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
