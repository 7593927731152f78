/**
 * An install from git, as a user makes one: `npm install git+file://<clone>` goes through the same
 * path as `npm install git+https://…`. npm clones the repository, installs its dependencies and
 * devDependencies there, runs `prepare` (which builds dist/) and packs the result by .npmignore.
 * The clone is of this checkout's committed HEAD: uncommitted changes are not in it.
 *
 * This is the slowest package test (one to three minutes): npm installs the clone's
 * devDependencies (esbuild, TypeScript and the test tools) before it can build, as it does for any
 * git dependency. --prefer-offline keeps it to npm's cache where it can.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '../../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('package routelens installed from git (slow: npm installs the clone\'s devDependencies to build it)', function () {
  this.timeout(600_000);
  let dir: string;
  let installed: string;

  before(function () {
    try {
      execFileSync('git', ['rev-parse', '--verify', 'HEAD'], { cwd: root, stdio: 'ignore' });
    } catch {
      this.skip(); // not a git checkout (e.g. an unpacked tarball): there is nothing to clone
    }
    dir = mkdtempSync(join(tmpdir(), 'routelens-git-'));
    const clone = join(dir, 'routelens');
    execFileSync('git', ['clone', '--quiet', '--depth', '1', `file://${root}`, clone], { stdio: ['ignore', 'ignore', 'inherit'] });
    const app = join(dir, 'app');
    mkdirSync(app);
    const url = `git+file://${clone}`;
    // allowScripts: the review npm asks for (by the git URL) before it runs a git dependency's `prepare`.
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, version: '1.0.0', allowScripts: { [url]: true } }));
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', url], { cwd: app, stdio: ['ignore', 'ignore', 'inherit'] });
    installed = join(app, 'node_modules/routelens');
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds dist/ on install: the agent, the preload, the protocol and their declarations', () => {
    for (const f of ['dist/agent/index.js', 'dist/agent/index.mjs', 'dist/agent/register.js', 'dist/agent/register.mjs', 'dist/protocol/index.js', 'dist/types/agent/index.d.ts']) {
      assert.ok(existsSync(join(installed, f)), `${f} is missing after the install`);
    }
  });

  it('installs the npm package, not the repository: no extension bundle, sources or tests', () => {
    for (const f of ['dist/extension', 'dist/webview', 'agent', 'test', 'node_modules/esbuild']) {
      assert.ok(!existsSync(join(installed, f)), `${f} was installed`);
    }
  });

  it('require("routelens/agent") works in the app', () => {
    const out = execFileSync(process.execPath, ['-e', "console.log(typeof require('routelens/agent').createAgent)"], { cwd: join(installed, '../..'), encoding: 'utf8' });
    assert.equal(out.trim(), 'function');
  });
});
