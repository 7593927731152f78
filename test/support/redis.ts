/**
 * A private, real redis-server for tests: started on a free port, no
 * persistence, stopped afterwards. Never a mock, never a Redis a developer
 * happens to run. `kill()` and `restart()` simulate Redis dying mid-run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  port: number;
  url: string;
  /** SIGKILL: connections drop at once, as in a crash. */
  kill(): Promise<void>;
  /** Starts again on the same port (empty: no persistence). */
  restart(): Promise<void>;
  /** Stops accepting replies: SIGSTOP, so the TCP connection stays open and commands hang. */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** `extraArgs` are appended to the redis-server command line (e.g. `['--rename-command', 'KEYS', '']`). */
export async function startRedis(options: { extraArgs?: string[] } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'routelens-redis-'));
  let child: ChildProcess | undefined;

  const spawnServer = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning', ...(options.extraArgs ?? [])], {
      stdio: 'ignore',
    });
    child.on('error', () => {});
    await waitForPort(port, 5000);
  };
  const killServer = async (signal: NodeJS.Signals) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill('SIGCONT');
    c.kill(signal);
    await exited;
  };

  await spawnServer();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: () => killServer('SIGKILL'),
    restart: spawnServer,
    freeze: () => child?.kill('SIGSTOP'),
    thaw: () => child?.kill('SIGCONT'),
    stop: async () => {
      await killServer('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitForPort(port: number, timeoutMs: number, what = 'redis-server'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let shared: Promise<TestRedis> | undefined;

/** One Redis shared by the whole integration run (flush or use distinct prefixes between tests). */
export function sharedRedis(): Promise<TestRedis> {
  shared ??= startRedis();
  return shared;
}

export async function stopSharedRedis(): Promise<void> {
  if (!shared) return;
  const r = await shared;
  shared = undefined;
  await r.stop();
}
