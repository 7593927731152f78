/**
 * The lenses next to a route's figures that answer "why": `Details` (the
 * dashboard's Route Details), `Profile…`, and one per finding of the endpoint
 * (`⚠ N+1: 15× SELECT … FROM items`), whose click shows the finding at its line.
 */
import * as vscode from 'vscode';
import type { Finding } from '../../protocol';
import { CommandId } from '../commands/ids';
import { byEndpoint, findingTitle } from '../core/findings';
import { plainText } from '../core/text';

/** Findings shown as lenses per endpoint; the rest are summed up in one "+N more". */
export const FINDING_LENSES_MAX = 2;

export function whyLenses(range: vscode.Range, agentId: string, endpointId: string, findings: readonly Finding[] | undefined): vscode.CodeLens[] {
  const target = { endpointId, agentId };
  const lenses = [
    new vscode.CodeLens(range, { title: 'Details', tooltip: 'Where the time of this route goes: breakdown, slowest requests step by step, profile', command: CommandId.ShowRouteDetails, arguments: [target] }),
    new vscode.CodeLens(range, { title: 'Profile…', tooltip: 'Record a CPU profile of this route', command: CommandId.ProfileRoute, arguments: [target] }),
  ];
  const mine = findings?.length ? (byEndpoint(findings).get(endpointId) ?? []) : [];
  for (const f of mine.slice(0, FINDING_LENSES_MAX)) {
    lenses.push(
      new vscode.CodeLens(range, {
        title: findingTitle(f),
        tooltip: plainText(`${f.message}\nTry: ${f.recommendation}`, 600),
        command: CommandId.ShowFindings,
        arguments: [{ findingId: f.id, agentId }],
      }),
    );
  }
  if (mine.length > FINDING_LENSES_MAX) {
    lenses.push(new vscode.CodeLens(range, { title: `+${mine.length - FINDING_LENSES_MAX} more`, command: CommandId.ShowFindings, arguments: [{ endpointId, agentId }] }));
  }
  return lenses;
}
