/** Options shared by the commands that start the app (`baseline`, `compare --cmd`, `smoke`). */
import type { Command, OptionValues } from '../command';
import { UsageError, stringOption } from '../command';
import { RunningApp } from './app';
import { DEFAULT_LOAD, type LoadSettings } from './measure';
import { planApp } from './paths';
import { type Plan, type Scenario, readScenario } from './scenario';

export const RUN_OPTIONS = {
  cmd: { type: 'string' },
  scenario: { type: 'string' },
  duration: { type: 'string' },
  rate: { type: 'string' },
  peak: { type: 'string' },
  warmup: { type: 'string' },
  port: { type: 'string' },
  'start-timeout': { type: 'string' },
  'app-agent': { type: 'boolean' },
} as const satisfies Command['options'];

export const RUN_OPTIONS_HELP = [
  '  --cmd "<command>"       how the app starts, e.g. "node app.js" (run by the shell, in this directory)',
  '  --scenario <file>       paths, headers and bodies per route (JSON; see docs/baselines.md)',
  `  --duration <s>          paced phase, seconds (default ${DEFAULT_LOAD.seconds})`,
  `  --rate <r>              paced rate, requests per second over all routes (default ${DEFAULT_LOAD.rate})`,
  `  --peak <s>              peak phase, seconds, as fast as the app answers (default ${DEFAULT_LOAD.peakSeconds}; 0 = none)`,
  `  --warmup <s>            warm-up before measuring, seconds (default ${DEFAULT_LOAD.warmupSeconds})`,
  '  --port <n>              the port the app must listen on (default: the one its agent reports)',
  '  --start-timeout <s>     how long the app may take to start and listen (default 30)',
  '  --app-agent             the app creates its own agent (createAgent): do not preload one',
].join('\n');

export interface RunSettings {
  cmd: string;
  scenarioFile?: string;
  scenario?: Scenario;
  load: LoadSettings;
  port?: number;
  startTimeoutMs: number;
  preload: boolean;
}

function num(values: OptionValues, name: string, fallback: number, min: number, max: number): number {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  return v;
}

export function runSettings(values: OptionValues, defaults: Partial<LoadSettings> = {}): RunSettings {
  const cmd = stringOption(values, 'cmd');
  if (!cmd?.trim()) throw new UsageError('--cmd "<command that starts the app>" is required');
  const d = { ...DEFAULT_LOAD, ...defaults };
  const scenarioFile = stringOption(values, 'scenario');
  const portRaw = stringOption(values, 'port');
  return {
    cmd,
    ...(scenarioFile ? { scenarioFile, scenario: readScenario(scenarioFile) } : {}),
    load: {
      seconds: num(values, 'duration', d.seconds, 0.5, 3600),
      rate: num(values, 'rate', d.rate, 1, 100_000),
      peakSeconds: num(values, 'peak', d.peakSeconds, 0, 600),
      warmupSeconds: num(values, 'warmup', d.warmupSeconds, 0, 600),
      connections: d.connections,
    },
    ...(portRaw !== undefined ? { port: num(values, 'port', 0, 1, 65535) } : {}),
    startTimeoutMs: num(values, 'start-timeout', 30, 1, 600) * 1000,
    preload: values['app-agent'] !== true,
  };
}

/** Starts the app, plans its routes (the scenario checked against them). The caller stops the app. */
export async function startAndPlan(s: RunSettings, cwd: string, label?: string, env?: Record<string, string>): Promise<{ app: RunningApp; plan: Plan }> {
  const app = await RunningApp.start({ cmd: s.cmd, cwd, startTimeoutMs: s.startTimeoutMs, preload: s.preload, ...(s.port !== undefined ? { port: s.port } : {}), ...(label ? { label } : {}), ...(env ? { env } : {}) });
  try {
    const plan = await planApp(app.http, s.scenario, s.scenarioFile);
    if (!plan.targets.length) throw new UsageError(`no route to drive: ${plan.skipped.length ? plan.skipped.map((x) => `${x.id} ${x.reason}`).join('; ') : 'the app registered no route'}`);
    return { app, plan };
  } catch (err) {
    await app.stop();
    throw err;
  }
}
