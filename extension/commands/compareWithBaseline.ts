import * as vscode from 'vscode';
import type { BaselineComparison } from '../../protocol';
import { baselineMarkdown } from '../core/baselineReport';
import { report, requireAgent, type Services } from '../services';
import { CommandId } from './ids';
import { promptOptions } from './prompt';

export interface CompareArgs {
  /** `branch`: the default branch's recent figures; `file`: a saved baseline (`file`, workspace-relative `.json`). Without it: a pick. */
  source?: 'branch' | 'file';
  file?: string;
  /** `false`: return the comparison without opening the Markdown. */
  open?: boolean;
}

/** The file picked, workspace-relative; undefined when the pick was cancelled. Throws for a file outside the workspace or not `.json`. */
async function pickFile(): Promise<string | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const picked = await vscode.window.showOpenDialog({
    title: 'RouteLens: Baseline File',
    defaultUri: folder?.uri,
    canSelectMany: false,
    canSelectFolders: false,
    filters: { 'RouteLens baseline': ['json'] },
    openLabel: 'Compare',
  });
  const uri = picked?.[0];
  if (!uri) return undefined;
  if (!vscode.workspace.getWorkspaceFolder(uri)) throw new Error('choose a baseline file inside the workspace');
  return vscode.workspace.asRelativePath(uri, false);
}

async function pickSource(): Promise<CompareArgs | undefined> {
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'The default branch\'s recent figures', description: 'what the agent measured on the repository\'s default branch', source: 'branch' as const },
      { label: 'A saved baseline file…', description: 'written by routelens baseline --out', source: 'file' as const },
    ],
    { title: 'RouteLens: Compare with Baseline', ...promptOptions() },
  );
  if (!pick) return undefined;
  if (pick.source === 'branch') return { source: 'branch' };
  const file = await pickFile();
  return file === undefined ? undefined : { source: 'file', file };
}

/**
 * Args: `{ source, file?, open? }` (see CompareArgs); else a pick. Runs
 * `baseline.set` on the selected agent, keeps the answer (the lenses follow)
 * and opens the comparison as a Markdown document. Returns the comparison.
 */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.CompareWithBaseline, (args?: CompareArgs) =>
    report<BaselineComparison>(s, 'compare with baseline', async () => {
      const conn = requireAgent(s);
      const choice = args?.source ? args : await pickSource();
      if (!choice) return undefined;
      const file = choice.source === 'file' ? choice.file?.trim() : undefined;
      if (choice.source === 'file' && (!file || !file.toLowerCase().endsWith('.json'))) throw new Error('a baseline file is a .json file (routelens baseline --out)');
      const comparison = await s.ensureStarted().baseline.set(conn.id, file);
      if (args?.open !== false) {
        const content = baselineMarkdown(comparison, { agent: conn.label, generatedAt: new Date().toISOString() });
        const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
        await vscode.window.showTextDocument(doc, { preview: true });
      }
      return comparison;
    }),
  );
}
