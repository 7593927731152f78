/**
 * The README's shell recipe for calling the local server from a script: it
 * must find the newest agent's discovery file and token when several agents
 * run and when TMPDIR points elsewhere.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '../../..');

/** The sh block of the README that calls /v1/endpoints. */
function readmeRecipe(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('/v1/endpoints?sort=slowest'));
  assert.ok(block, 'the README has the recipe');
  return block;
}

describe("README's recipe for reading the token", function () {
  this.timeout(60_000);
  let temp: string;
  const apps: ChildProcess[] = [];

  before(() => {
    temp = mkdtempSync(join(tmpdir(), 'routelens-readme-'));
  });
  after(() => {
    for (const app of apps) app.kill('SIGKILL');
    rmSync(temp, { recursive: true, force: true });
  });

  const env = () => {
    const e: NodeJS.ProcessEnv = { ...process.env, TMPDIR: temp };
    delete e.XDG_RUNTIME_DIR;
    delete e.ROUTELENS_DISCOVERY_DIR;
    return e;
  };

  async function startApp(name: string, route: string): Promise<void> {
    const script = join(temp, `${name}.ts`);
    writeFileSync(
      script,
      [
        `const express = require(${JSON.stringify(join(root, 'node_modules/express'))});`,
        `const agent = require(${JSON.stringify(join(root, 'agent'))}).createAgent({ name: ${JSON.stringify(name)} });`,
        'const app = express();',
        'app.use(agent.middleware());',
        `app.get(${JSON.stringify(route)}, (_req, res) => res.send('ok'));`,
        "app.listen(0, '127.0.0.1', async () => { await agent.ready(); console.log('READY'); });",
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'inherit'] });
    apps.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => String(d).includes('READY') && resolve());
      child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
    });
  }

  it('reaches the newest of two agents whose discovery files are under $TMPDIR', async () => {
    await startApp('older', '/older');
    await new Promise((r) => setTimeout(r, 1100)); // ls -t sorts by modification time, at one-second resolution on some file systems
    await startApp('newer', '/newer');
    const out = execFileSync('bash', ['-c', `set -euo pipefail\n${readmeRecipe()}`], { env: env(), encoding: 'utf8', cwd: temp });
    const body = JSON.parse(out) as { endpoints: Array<{ id: string }> };
    assert.deepEqual(body.endpoints.map((e) => e.id), ['GET /newer']);
  });
});
