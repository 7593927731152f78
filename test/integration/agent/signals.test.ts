/**
 * Discovery files and signals: an app stopped by Ctrl-C (SIGINT) or SIGTERM
 * leaves no discovery file behind, and ends exactly as it would without the
 * agent; an app with its own handler keeps control of how it exits.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '../../..');

describe('discovery files on Ctrl-C and SIGTERM', function () {
  this.timeout(30_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'routelens-signals-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Starts a tiny Express app (with or without the agent) and waits until it listens and, with the agent, advertises. */
  async function start(opts: { agent: boolean; ownHandler?: boolean }): Promise<{ child: ChildProcess; output: () => string }> {
    const script = join(dir, 'app.ts');
    writeFileSync(
      script,
      [
        `const express = require(${JSON.stringify(join(root, 'node_modules/express'))});`,
        opts.agent ? `const agent = require(${JSON.stringify(join(root, 'agent'))}).createAgent({ discoveryDir: ${JSON.stringify(join(dir, 'discovery'))} });` : 'const agent = undefined;',
        'const app = express();',
        'if (agent) app.use(agent.middleware());',
        "app.get('/', (_req, res) => res.send('ok'));",
        opts.ownHandler ? "process.on('SIGTERM', () => { console.log('app handler ran'); process.exit(3); });" : '',
        "const server = app.listen(0, '127.0.0.1', async () => { if (agent) await agent.ready(); console.log('READY'); });",
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += String(d)));
    child.stderr!.on('data', (d: Buffer) => (out += String(d)));
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (out.includes('READY')) {
          clearInterval(timer);
          resolve();
        }
      }, 20);
      child.once('exit', (code) => {
        clearInterval(timer);
        reject(new Error(`app exited early (${code}): ${out}`));
      });
    });
    return { child, output: () => out };
  }

  const exited = (child: ChildProcess) =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const files = () => (existsSync(join(dir, 'discovery')) ? readdirSync(join(dir, 'discovery')).filter((f) => f.endsWith('.json')) : []);

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} on an app without its own handler removes the file and ends the process by that signal, as without the agent`, async () => {
      const bare = await start({ agent: false });
      const bareExit = exited(bare.child);
      bare.child.kill(signal);
      const expected = await bareExit;

      const app = await start({ agent: true });
      assert.equal(files().length, 1, 'the agent advertised itself');
      const appExit = exited(app.child);
      app.child.kill(signal);
      assert.deepEqual(await appExit, expected);
      assert.deepEqual(expected, { code: null, signal });
      assert.deepEqual(files(), []);
    });
  }

  it("an app's own SIGTERM handler still decides how the process exits, and the file is removed on exit", async () => {
    const app = await start({ agent: true, ownHandler: true });
    assert.equal(files().length, 1);
    const appExit = exited(app.child);
    app.child.kill('SIGTERM');
    assert.deepEqual(await appExit, { code: 3, signal: null });
    assert.match(app.output(), /app handler ran/);
    assert.deepEqual(files(), []);
  });
});
