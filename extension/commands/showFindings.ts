import * as vscode from 'vscode';
import type { Finding, SourceLocation } from '../../protocol';
import { mapRemotePath } from '../core/discovery';
import { FINDING_LABELS, findingTitle, shortLocation } from '../core/findings';
import { plainText } from '../core/text';
import { report, type Services } from '../services';
import { liveFindings } from '../views/findingDiagnostics';
import { CommandId } from './ids';

/** Opens a finding's line; the cursor lands on the diagnostic, whose hover then says what was seen and what to try. */
export async function openFinding(s: Services, loc: SourceLocation): Promise<void> {
  const line = Math.max(0, loc.line - 1);
  const pos = new vscode.Position(line, Math.max(0, loc.column - 1));
  await vscode.window.showTextDocument(vscode.Uri.file(mapRemotePath(loc.file, s.config.pathMappings)), { selection: new vscode.Range(pos, pos), preview: true });
  void vscode.commands.executeCommand('editor.action.showHover').then(undefined, () => undefined);
}

/**
 * Args: `{ findingId, agentId? }` opens that finding's line (a lens click);
 * `{ endpointId }` narrows the pick to one endpoint; `{ pick: false }` returns
 * the findings without UI. Otherwise focuses the Findings view and offers a
 * quick pick whose choice opens the finding's line. Returns the findings listed.
 */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ShowFindings, (args?: { findingId?: string; agentId?: string; endpointId?: string; pick?: boolean }) =>
    report<Finding[]>(s, 'show findings', async () => {
      const { manager } = s.ensureStarted();
      let items = liveFindings(manager);
      if (typeof args?.agentId === 'string') items = items.filter((i) => i.conn.id === args.agentId);
      if (typeof args?.findingId === 'string') {
        const hit = items.find((i) => i.finding.id === args.findingId);
        if (!hit) throw new Error('that finding is gone (the agent no longer reports it)');
        await openFinding(s, hit.finding.location);
        return [hit.finding];
      }
      if (typeof args?.endpointId === 'string') items = items.filter((i) => i.finding.endpoint === args.endpointId);
      const findings = items.map((i) => i.finding);
      if (args?.pick === false) return findings;
      void Promise.resolve(vscode.commands.executeCommand('routelens.findings.focus')).catch(() => undefined);
      if (!items.length) {
        void vscode.window.showInformationMessage('RouteLens: no findings yet. They appear when the agent records spans and sees an N+1, a slow query, blocking work…');
        return findings;
      }
      const pick = await vscode.window.showQuickPick(
        items.map(({ conn, finding: f }) => ({
          label: findingTitle(f, 100),
          description: `${plainText(f.endpoint)} · ${shortLocation(f.location)}${manager.all.length > 1 ? ` · ${plainText(conn.label)}` : ''}`,
          detail: plainText(`${FINDING_LABELS[f.kind]}: ${f.message} Try: ${f.recommendation}`, 400),
          finding: f,
        })),
        // Kept open when the Findings view, shown alongside, takes the focus (Escape still closes it).
        { title: 'RouteLens: Findings', placeHolder: 'Pick a finding to open its line', matchOnDescription: true, matchOnDetail: true, ignoreFocusOut: true },
      );
      if (pick) await openFinding(s, pick.finding.location);
      return findings;
    }),
  );
}
