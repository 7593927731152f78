import * as vscode from 'vscode';
import { formatMs } from '../../protocol';
import type { AgentConnection } from '../core/manager';
import { plainText } from '../core/text';
import { promptOptions } from './prompt';

/** A quick pick of the agent's endpoints, slowest (p95 over 5 minutes) first, those with findings marked. */
export async function pickEndpoint(conn: AgentConnection, title: string): Promise<string | undefined> {
  const snap = conn.client.store.snapshot;
  const withFindings = new Set((snap?.findings ?? []).map((f) => f.endpoint));
  const endpoints = [...(snap?.endpoints ?? [])].filter((e) => e.kind === 'route').sort((a, b) => (b.windows?.['5m'].p95 ?? b.p95) - (a.windows?.['5m'].p95 ?? a.p95));
  const pick = await vscode.window.showQuickPick(
    endpoints.map((e) => ({
      label: `${withFindings.has(e.id) ? '$(warning) ' : ''}${plainText(e.id)}`,
      description: `p95 ${formatMs(e.windows?.['5m'].p95 ?? e.p95)} · ${e.count} req`,
      id: e.id,
    })),
    { title: `RouteLens: ${title} (${conn.label})`, placeHolder: 'Pick a route', matchOnDescription: true, ...promptOptions() },
  );
  return pick?.id;
}
