import * as vscode from 'vscode';
import { SCALAR_THRESHOLDS, type ScalarThreshold, THRESHOLD_SPECS, UNIT_TEXT } from '../../protocol';
import { thresholdsPatch } from '../../protocol/validate';
import { report, requireAgent, type Services } from '../services';
import { CommandId } from './ids';
import { promptOptions } from './prompt';

const NAMES = SCALAR_THRESHOLDS.map((name) => ({ name, label: THRESHOLD_SPECS[name].label, unit: UNIT_TEXT[THRESHOLD_SPECS[name].unit] }));

/** Args: `{ name, value }` (name: a Thresholds field). Returns the agent's thresholds after the change. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.SetAlertThreshold, (args?: { name?: string; value?: number }) =>
    report(s, 'set alert threshold', async () => {
      const conn = requireAgent(s);
      const current = conn.client.store.snapshot?.thresholds;
      let name = args?.name as ScalarThreshold | undefined;
      if (!name) name = (await vscode.window.showQuickPick(NAMES.map((n) => ({ label: n.label, description: `${current?.[n.name] ?? '?'} ${n.unit}`, name: n.name })), { title: 'RouteLens: Set Alert Threshold', ...promptOptions() }))?.name;
      if (!name) return undefined;
      const field = name;
      const check = (v: number) => thresholdsPatch.safeParse({ [field]: v });
      let value = args?.value;
      if (value === undefined) {
        const text = await vscode.window.showInputBox({ title: `New ${field}`, ...promptOptions(), value: String(current?.[field] ?? ''), validateInput: (v) => (check(Number(v)).success ? undefined : 'out of range') });
        if (text === undefined) return undefined;
        value = Number(text);
      }
      if (!check(value).success) throw new Error(`${field} = ${value} is out of range`);
      return conn.client.request('thresholds.set', { thresholds: { [field]: value } });
    }, () => 'threshold updated'),
  );
}
