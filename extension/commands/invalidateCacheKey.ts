import * as vscode from 'vscode';
import type { CacheKeyInfo } from '../../protocol';
import type { AgentConnection } from '../core/manager';
import { plainText } from '../core/text';
import { report, requireAgent, type Services } from '../services';
import { CommandId } from './ids';
import { promptOptions } from './prompt';

/** What the user typed → a substring glob the agent's validator accepts (no wildcards or classes of theirs). */
export function filterToPattern(text: string): string | undefined {
  const clean = text.replace(/[*?[\]\\{}]/g, '').slice(0, 200);
  return clean ? `*${clean}*` : undefined;
}

/**
 * A quick pick fed live by the agent's `cache.keys`, refreshed (debounced) as
 * the user types; stale answers (for an older filter) are ignored.
 */
async function pickKey(conn: AgentConnection): Promise<string | undefined> {
  const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { key: string }>();
  qp.title = `RouteLens: Invalidate Cache Key (${conn.label})`;
  qp.placeholder = 'Type to filter keys (asks the agent as you type)';
  qp.matchOnDescription = true;
  qp.ignoreFocusOut = promptOptions().ignoreFocusOut;
  let generation = 0;
  let timer: NodeJS.Timeout | undefined;
  const load = (filter: string) => {
    const mine = ++generation;
    qp.busy = true;
    const pattern = filterToPattern(filter);
    conn.client.request('cache.keys', pattern ? { pattern, limit: 200 } : { limit: 200 }).then(
      (r) => {
        if (mine !== generation) return;
        qp.items = r.keys.map((k: CacheKeyInfo) => ({ label: plainText(k.key), description: `${plainText(k.namespace)} · ${k.tier}${k.tags?.length ? ` · ${plainText(k.tags.join(', '))}` : ''}`, key: k.key }));
        qp.busy = false;
      },
      (err: Error) => {
        if (mine !== generation) return;
        qp.items = [];
        qp.busy = false;
        qp.placeholder = `Could not list keys: ${err.message}`;
      },
    );
  };
  const disposables: vscode.Disposable[] = [];
  try {
    return await new Promise<string | undefined>((resolve) => {
      disposables.push(
        qp.onDidChangeValue((v) => {
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => load(v), 150);
        }),
        qp.onDidAccept(() => resolve(qp.selectedItems[0]?.key)),
        qp.onDidHide(() => resolve(undefined)),
      );
      load('');
      qp.show();
    });
  } finally {
    if (timer) clearTimeout(timer);
    for (const d of disposables) d.dispose();
    qp.dispose();
  }
}

/** Args: `{ key }`. Returns the agent's `{ removed, dryRun }`. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.InvalidateCacheKey, (args?: { key?: string }) =>
    report(s, 'invalidate cache key', async () => {
      const conn = requireAgent(s);
      const key = args?.key ?? (await pickKey(conn));
      if (!key) return undefined;
      return conn.client.request('cache.invalidate', { key });
    }, (r) => (r.removed ? `removed ${r.removed} key${r.removed === 1 ? '' : 's'}` : 'no such key (nothing removed)')),
  );
}
