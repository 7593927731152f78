/**
 * Runs the real demo app (examples/demo/server.mjs, the real agent) as a child
 * process for the extension-host tests, and talks to its agent's HTTP API
 * (token from its discovery file) to check what commands did.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DiscoveryRecord, asDiscoveryRecord, discoveryFileName } from '../../protocol';

export class DemoProcess {
  private child: ChildProcess | undefined;
  appUrl = '';
  record: DiscoveryRecord | undefined;
  readonly output: string[] = [];

  constructor(
    private readonly root: string,
    private readonly cwd: string,
    private readonly discoveryDir: string,
  ) {}

  static available(root: string): boolean {
    return existsSync(join(root, 'examples/demo/server.mjs')) && existsSync(join(root, 'dist/agent/index.js'));
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [join(this.root, 'examples/demo/server.mjs'), '--port', '0', '--no-traffic'], {
      cwd: this.cwd,
      env: { ...process.env, ROUTELENS_DISCOVERY_DIR: this.discoveryDir, ELECTRON_RUN_AS_NODE: '1', ROUTELENS_REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const ready = new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`demo did not start:\n${this.output.join('\n')}`)), 30_000);
      const onLine = (buf: Buffer) => {
        for (const line of buf.toString().split('\n')) {
          if (!line) continue;
          this.output.push(line);
          const m = /Demo app listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
          if (m) this.appUrl = m[1];
          if (/RouteLens agent listening/.test(line)) {
            clearTimeout(t);
            resolve();
          }
        }
      };
      child.stdout?.on('data', onLine);
      child.stderr?.on('data', onLine);
      child.once('exit', (code) => {
        clearTimeout(t);
        reject(new Error(`demo exited with ${code}:\n${this.output.join('\n')}`));
      });
    });
    await ready;
    const file = join(this.discoveryDir, discoveryFileName(child.pid!));
    this.record = asDiscoveryRecord(JSON.parse(readFileSync(file, 'utf8')));
    if (!this.record) throw new Error('demo discovery file is not valid');
  }

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await gone;
    clearTimeout(t);
  }

  /** Calls the agent's HTTP API with the token from the discovery file. */
  async api<T = unknown>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const r = this.record!;
    const res = await fetch(`http://127.0.0.1:${r.port}${path}`, {
      method: init.method ?? 'GET',
      headers: { Authorization: `Bearer ${r.token}`, ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** A request to the demo app itself. */
  async get(path: string): Promise<number> {
    const res = await fetch(`${this.appUrl}${path}`);
    await res.arrayBuffer();
    return res.status;
  }
}
