import * as vscode from 'vscode';
import type { Thresholds } from '../../protocol';
import { thresholdsPatch } from '../../protocol/validate';
import { report, requireAgent, type Services } from '../services';
import { CommandId } from './ids';
import { promptOptions } from './prompt';

type Scalar = Exclude<keyof Thresholds, 'slowMs'>;
/** Every scalar threshold, in the order the picker lists them (a Record, so the compiler asks for a new field here). */
const FIELDS: Record<Scalar, { label: string; unit: string }> = {
  p95Ms: { label: 'Route p95 latency', unit: 'ms' },
  avgMs: { label: 'Route average latency', unit: 'ms' },
  errorRate: { label: 'Error rate', unit: 'fraction 0..1' },
  heapPercent: { label: 'Heap used', unit: 'fraction 0..1' },
  eventLoopDelayMs: { label: 'Event-loop delay p99', unit: 'ms' },
  cacheHitRate: { label: 'Cache hit rate (minimum)', unit: 'fraction 0..1' },
  rateLimitedShare: { label: 'Rate-limited share', unit: 'fraction 0..1' },
  anomalyFactor: { label: 'Latency anomaly factor', unit: '× baseline' },
  slowPerMinute: { label: 'Slow requests per minute', unit: 'requests ≥ the info slow threshold' },
  slowQueryMs: { label: 'Slow query', unit: 'ms' },
  cpuPercent: { label: 'Process CPU (sustained)', unit: '% of one core' },
  errorSpikeFactor: { label: 'Error-rate spike factor', unit: '× baseline' },
  memoryGrowthFactor: { label: 'Memory growth factor', unit: '× baseline' },
};
const NAMES = (Object.keys(FIELDS) as Scalar[]).map((name) => ({ name, ...FIELDS[name] }));

/** Args: `{ name, value }` (name: a Thresholds field). Returns the agent's thresholds after the change. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.SetAlertThreshold, (args?: { name?: string; value?: number }) =>
    report(s, 'set alert threshold', async () => {
      const conn = requireAgent(s);
      const current = conn.client.store.snapshot?.thresholds;
      let name = args?.name as Scalar | undefined;
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
