/** Runs `routelens` (from source) as a child process in a given directory, for the perf command tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, ROOT } from './helpers';

export const PERF_APP = 'node test/fixtures/perf/app.cjs';
export const PERF_SCENARIO = 'test/fixtures/perf/scenario.json';
/** Short phases: these tests check behaviour, not figures. */
export const QUICK = ['--duration', '1', '--peak', '0.5', '--warmup', '0.5', '--rate', '60'];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function spawnCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    // No history unless a test asks: paths recorded by one test's run must not drive another's routes.
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules'), ROUTELENS_HISTORY: '0', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<CliResult>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runPerfCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return spawnCli(args, opts).done;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
