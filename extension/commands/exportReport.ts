import * as vscode from 'vscode';
import { reportBaseName, reportJson, reportMarkdown } from '../core/report';
import { report, requireAgent, type Services } from '../services';
import { CommandId } from './ids';

export const REPORT_FOLDER = 'routelens-reports';

/** Args: `{ open: false }` to skip opening the Markdown. Writes JSON + Markdown under <workspace>/routelens-reports/; returns both paths. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ExportReport, (args?: { open?: boolean }) =>
    report(s, 'export report', async () => {
      const conn = requireAgent(s);
      const snapshot = conn.client.store.snapshot;
      if (!snapshot) throw new Error('no data from the agent yet');
      const folder = vscode.workspace.workspaceFolders?.[0];
      if (!folder) throw new Error('open a folder to export a report into');
      const now = new Date();
      const meta = { generatedAt: now.toISOString(), extensionVersion: String(s.context.extension.packageJSON.version ?? '') };
      const dir = vscode.Uri.joinPath(folder.uri, REPORT_FOLDER);
      await vscode.workspace.fs.createDirectory(dir);
      const base = reportBaseName(snapshot, now);
      const json = vscode.Uri.joinPath(dir, `${base}.json`);
      const md = vscode.Uri.joinPath(dir, `${base}.md`);
      await vscode.workspace.fs.writeFile(json, Buffer.from(reportJson(snapshot, meta)));
      await vscode.workspace.fs.writeFile(md, Buffer.from(reportMarkdown(snapshot, meta)));
      if (args?.open !== false) await vscode.window.showTextDocument(md, { preview: true });
      return { json: json.fsPath, markdown: md.fsPath };
    }, (r) => `report written to ${vscode.workspace.asRelativePath(r.markdown)} and .json`),
  );
}
