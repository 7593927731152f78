/**
 * Apps run in child processes for the Express integration tests (not a test file): the agent
 * and its preload bundled with the same esbuild settings as scripts/build.mjs (so the tests do
 * not depend on a shared dist/), and a fixture started with `node` that prints {"port": n}.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

export const root = join(__dirname, '../../..');
export const fixtures = join(root, 'test/fixtures/express-apps');

export interface Bundle {
  dir: string;
  /** dist/agent/index.js, register.js and register.mjs as built. */
  agent: { index: string; register: string; registerEsm: string };
  /** Starts `node <args> <app>` in `cwd` (the fixtures folder by default); resolves with its port. */
  start(args: string[], app: string, env: Record<string, string>, cwd?: string): Promise<{ port: number; child: ChildProcess; stdout: () => string; stderr: () => string }>;
  /** Kills every child and removes the folder. */
  close(): void;
}

export async function bundleAgent(prefix: string): Promise<Bundle> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
   
  const pkg = require(join(root, 'package.json')) as { dependencies: Record<string, string> };
  const external = [...Object.keys(pkg.dependencies), 'express'];
  const common = { absWorkingDir: root, bundle: true, logLevel: 'silent' as const, platform: 'node' as const, target: 'node20', outdir: join(dir, 'agent') };
  await build({ ...common, entryPoints: { index: 'agent/index.ts', register: 'agent/register.ts', worker: 'agent/worker/main.ts' }, format: 'cjs', external });
  await build({ ...common, entryPoints: { register: 'agent/register-esm.ts' }, format: 'esm', outExtension: { '.js': '.mjs' }, external: [...external, './register.js'] });
  const children: ChildProcess[] = [];
  return {
    dir,
    agent: { index: join(dir, 'agent/index.js'), register: join(dir, 'agent/register.js'), registerEsm: join(dir, 'agent/register.mjs') },
    async start(args, app, env, cwd = fixtures) {
      const child = spawn(process.execPath, [...args, join(cwd, app)], {
        cwd,
        env: { PATH: process.env.PATH ?? '', ROUTELENS_DISCOVERY_DIR: join(dir, 'discovery'), RL_REGISTER: join(dir, 'agent/register.js'), RL_AGENT: join(dir, 'agent/index.js'), ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /\{"port":(\d+)\}/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`app exited ${code}: ${err}`)));
      });
      return { port, child, stdout: () => out, stderr: () => err };
    },
    close() {
      for (const c of children) c.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
