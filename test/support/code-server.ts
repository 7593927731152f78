/**
 * Starts and stops a real VS Code (code-server, installed by
 * scripts/install-code-server.sh into .vscode-test/code-server) on a free
 * loopback port, with a throw-away user-data-dir and extensions-dir.
 * Shared by the extension-host tests (test/vscode/run.mjs) and the e2e tests.
 *
 *   const cs = await startCodeServer({ env: { ROUTELENS_DISCOVERY_DIR: dir } });
 *   cs.url                                   // http://127.0.0.1:PORT
 *   cs.workbenchUrl(folder, { extensionDevelopmentPath, extensionTestsPath })
 *   await cs.stop();                         // kills it and removes its temp dirs
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface CodeServerOptions {
  /** Extra environment for code-server and its extension host (e.g. ROUTELENS_DISCOVERY_DIR). */
  env?: Record<string, string | undefined>;
  /** Repository root (defaults to this file's ../..). */
  root?: string;
  /** How long to wait for the server to listen (default 60 s). */
  startTimeoutMs?: number;
  /** Called with each line code-server prints (default: kept in `log`). */
  onLine?: (line: string) => void;
  /** Extensions dir (e.g. one a .vsix was installed into); default a fresh temp dir. */
  extensionsDir?: string;
  /** User settings merged over QUIET_SETTINGS. */
  settings?: Record<string, unknown>;
}

/** User settings for a test workbench: no prompts or pages that cover what the tests look at. */
export const QUIET_SETTINGS: Record<string, unknown> = {
  'git.openRepositoryInParentFolders': 'never',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'extensions.ignoreRecommendations': true,
  'telemetry.telemetryLevel': 'off',
};

export interface CodeServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Lines printed by code-server so far (bounded). */
  log: string[];
  /**
   * The workbench URL opening `folder`; with dev paths it loads the extension
   * under development and runs the test module (VS Code's `payload` parameter).
   */
  workbenchUrl(folder: string, dev?: { extensionDevelopmentPath: string; extensionTestsPath?: string }): string;
  stop(): Promise<void>;
}

/** Where scripts/install-code-server.sh puts the binary. */
export function codeServerBinary(root = defaultRoot()): string {
  return join(root, '.vscode-test/code-server/node_modules/.bin/code-server');
}

function defaultRoot(): string {
  return resolve(__dirname, '..', '..');
}

/** A free TCP port on 127.0.0.1 (asks the OS, then releases it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  const root = options.root ?? defaultRoot();
  const bin = codeServerBinary(root);
  if (!existsSync(bin)) throw new Error(`code-server is not installed at ${bin}: run scripts/install-code-server.sh`);
  const port = await freePort();
  const temp = mkdtempSync(join(tmpdir(), 'routelens-code-server-'));
  mkdirSync(join(temp, 'user-data', 'User'), { recursive: true });
  writeFileSync(join(temp, 'user-data', 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...options.settings }, null, 2));
  const args = [
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir', join(temp, 'user-data'),
    '--extensions-dir', options.extensionsDir ?? join(temp, 'extensions'),
  ];
  const log: string[] = [];
  const child: ChildProcess = spawn(bin, args, {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: process.platform !== 'win32', // own process group: stop() ends its children too
  });
  const onData = (buf: Buffer) => {
    for (const line of buf.toString().split('\n')) {
      if (!line) continue;
      log.push(line);
      if (log.length > 2000) log.shift();
      options.onLine?.(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  const stop = async () => {
    if (!exited && child.pid) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      try {
        process.kill(process.platform === 'win32' ? child.pid : -child.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(process.platform === 'win32' ? child.pid! : -child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await gone;
      clearTimeout(t);
    }
    rmSync(temp, { recursive: true, force: true });
  };

  // Wait until it answers HTTP.
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`code-server exited during start:\n${log.slice(-30).join('\n')}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not start within the time limit:\n${log.slice(-30).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    log,
    workbenchUrl(folder, dev) {
      const q = new URLSearchParams({ folder });
      if (dev) {
        const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
        const payload: string[][] = [['extensionDevelopmentPath', remote(dev.extensionDevelopmentPath)]];
        if (dev.extensionTestsPath) payload.push(['extensionTestsPath', remote(dev.extensionTestsPath)]);
        q.set('payload', JSON.stringify(payload));
      }
      return `${url}/?${q.toString()}`;
    },
    stop,
  };
}
