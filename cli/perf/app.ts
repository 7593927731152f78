/**
 * Starts the user's app with the agent preloaded and finds both: its agent through a
 * discovery directory of its own (so it is exactly this app's), then the port the app's
 * server listens on, as the agent reports it (`agent.appPorts`). Every process started here
 * runs in a process group of its own and is stopped, group and all, on stop(), on Ctrl-C
 * (SIGINT/SIGTERM) and when this process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DISCOVERY_FILE_PATTERN, type DiscoveryRecord, asDiscoveryRecord, type Snapshot } from '../../protocol';
import { AgentHttp } from '../core/http';

export interface StartOptions {
  /** Shell command line, e.g. `node app.js`. */
  cmd: string;
  cwd: string;
  env?: Record<string, string>;
  /** The port the app must listen on (default: the one its agent reports). */
  port?: number;
  /** How long the agent and the app may take to start (ms). */
  startTimeoutMs: number;
  /** Preload the agent (default); false when the app creates its own (createAgent). */
  preload?: boolean;
  /** A label in messages: "base", "head". */
  label?: string;
}

/** The app could not be started or found: a clear message, exit code 1. */
export class AppStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppStartError';
  }
}

interface Killable {
  kill(signal: NodeJS.Signals): void;
  stop?(): Promise<void>;
}

/** What is running now: killed on Ctrl-C and at exit. */
const running = new Set<Killable>();
let handlersInstalled = false;

function onSignal(signal: NodeJS.Signals): void {
  for (const app of running) app.kill('SIGKILL');
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', () => {
    for (const app of running) app.kill('SIGKILL');
  });
}

/** The package's `register` preload (dist/agent/register.js), found from this file up to the package root. */
export function registerPath(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'dist', 'agent', 'register.js');
    if (existsSync(candidate)) return candidate;
    const sibling = join(dir, 'agent', 'register.js');
    if (existsSync(sibling) && existsSync(join(dir, 'cli'))) return sibling;
    dir = dirname(dir);
  }
  throw new AppStartError('cannot find the agent preload (dist/agent/register.js): build the package first (npm run build)');
}

export class RunningApp {
  readonly http: AgentHttp;
  private exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly record: DiscoveryRecord,
    readonly appPort: number,
    readonly appHost: string,
    private readonly discoveryDir: string,
  ) {
    this.http = new AgentHttp(record, 10_000);
    child.once('exit', (code, signal) => (this.exited = { code, signal }));
  }

  get appUrl(): string {
    return `http://${this.appHost.includes(':') ? `[${this.appHost}]` : this.appHost}:${this.appPort}`;
  }

  get alive(): boolean {
    return this.exited === undefined && this.child.exitCode === null;
  }

  snapshot(): Promise<Snapshot> {
    return this.http.snapshot();
  }

  /** Signals the whole process group (the shell and the app under it). */
  kill(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || !this.alive) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  }

  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once the process exited. Idempotent. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.alive) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.kill('SIGTERM');
      const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    running.delete(this);
    rmSync(this.discoveryDir, { recursive: true, force: true });
  }

  static async start(o: StartOptions): Promise<RunningApp> {
    installHandlers();
    const discoveryDir = mkdtempSync(join(tmpdir(), 'routelens-perf-'));
    const preload = o.preload === false ? undefined : `--require ${JSON.stringify(registerPath())}`;
    const env: Record<string, string | undefined> = {
      ...process.env,
      ...o.env,
      ...(preload ? { NODE_OPTIONS: [process.env.NODE_OPTIONS, preload].filter(Boolean).join(' ') } : {}),
      ROUTELENS_DISCOVERY_DIR: discoveryDir,
    };
    const child = spawn(o.cmd, { cwd: o.cwd, env, shell: true, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (b: Buffer) => (output = (output + b.toString('utf8')).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exit: string | undefined;
    child.once('exit', (code, signal) => (exit = signal ? `was killed by ${signal}` : `exited with code ${code}`));
    child.once('error', (err) => (exit = `could not start (${err.message})`));
    const label = o.label ? `${o.label}: ` : '';
    const tail = () => (output.trim() ? `\n--- its last output ---\n${output.trim().split('\n').slice(-15).join('\n')}` : '');
    const starting: Killable = { kill: (s) => void (child.pid !== undefined && child.exitCode === null && tryKill(-child.pid, s)) };
    running.add(starting);
    try {
      const deadline = Date.now() + o.startTimeoutMs;
      const secs = Math.round(o.startTimeoutMs / 1000);
      let record: DiscoveryRecord | undefined;
      let ports: number[] = [];
      for (;;) {
        if (exit) throw new AppStartError(`${label}the app ${exit} before it listened (${o.cmd})${tail()}`);
        record ??= readRecord(discoveryDir);
        if (record) {
          const snap = await new AgentHttp(record, 2000).snapshot().catch(() => undefined);
          ports = snap?.agent.appPorts ?? [];
          if (ports.length) break;
        }
        if (Date.now() > deadline) {
          throw new AppStartError(
            record
              ? `${label}the app did not listen within ${secs} s: its RouteLens agent started, but no server of the app listens (${o.cmd})${tail()}`
              : `${label}no RouteLens agent started within ${secs} s: does the app load express? (${o.cmd})${tail()}`,
          );
        }
        await sleep(100);
      }
      const port = o.port ?? ports[0]!;
      if (o.port !== undefined && !ports.includes(o.port)) {
        throw new AppStartError(`${label}the app listens on port ${ports.join(', ')} (as its agent reports), not on --port ${o.port} (${o.cmd})`);
      }
      const host = await reachableHost(port);
      if (!host) throw new AppStartError(`${label}the agent reports the app on port ${port}, but nothing answers there on 127.0.0.1 or ::1 (${o.cmd})${tail()}`);
      const app = new RunningApp(child, record!, port, host, discoveryDir);
      running.delete(starting);
      running.add(app);
      return app;
    } catch (err) {
      running.delete(starting);
      if (child.pid !== undefined && child.exitCode === null) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        tryKill(-child.pid, 'SIGKILL');
        await Promise.race([gone, sleep(3000)]);
      }
      rmSync(discoveryDir, { recursive: true, force: true });
      throw err;
    }
  }
}

function tryKill(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

function readRecord(dir: string): DiscoveryRecord | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => DISCOVERY_FILE_PATTERN.test(n));
  } catch {
    return undefined;
  }
  for (const n of names) {
    try {
      const r = asDiscoveryRecord(JSON.parse(readFileSync(join(dir, n), 'utf8')));
      if (r) return r;
    } catch {
      // written but not complete yet
    }
  }
  return undefined;
}

async function reachableHost(port: number): Promise<string | undefined> {
  for (const host of ['127.0.0.1', '::1']) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      s.setTimeout(1000);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return host;
  }
  return undefined;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Stops every app still running (used by commands in `finally`). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((a) => (a.stop ? a.stop() : a.kill('SIGKILL'))));
}
