/**
 * `npm run demo` on a first run: `--help` answers, a typo is reported, and a
 * taken port is replaced by a free one with a line saying so.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

const root = join(__dirname, '../../..');
const server = join(root, 'examples/demo/server.mjs');

describe('the demo command line', function () {
  this.timeout(30_000);

  before(function () {
    if (!existsSync(join(root, 'dist/agent/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  });

  it('--help lists the options and exits 0 without building or starting anything', () => {
    const r = spawnSync(process.execPath, [join(root, 'scripts/demo.mjs'), '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const option of ['--port', '--no-traffic', '--rate', '--duration']) assert.ok(r.stdout.includes(option), option);
    assert.doesNotMatch(r.stdout, /Building/);
  });

  it('an unknown option or a bad number is named, with the usage, and exits 2', () => {
    for (const args of [['--prot', '3'], ['--port', 'abc']]) {
      const r = spawnSync(process.execPath, [server, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, args[0] === '--prot' ? /Unknown option '--prot'/ : /--port takes a number from 0 to 65535, got "abc"/);
      assert.match(r.stderr, /Usage: npm run demo/);
    }
  });

  it('a taken port is replaced by a free one, with a line saying so, and the demo answers there', async () => {
    const blocker = http.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as AddressInfo).port;
    const child = spawn(process.execPath, [server, '--port', String(taken), '--no-traffic'], { cwd: root, env: { ...process.env, ROUTELENS_DISCOVERY_DIR: mkdtempSync(join(tmpdir(), 'routelens-demo-')) }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += String(d);
          const m = /Demo app listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        child.stderr.on('data', (d: Buffer) => (out += String(d)));
        child.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${out}`)));
      });
      assert.match(out, new RegExp(`Port ${taken} is in use; the demo takes a free port instead`));
      assert.notEqual(port, taken);
      assert.doesNotMatch(out, /TypeError/);
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/' }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += String(c)));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      assert.match(body, /routelens-demo/);
    } finally {
      child.kill('SIGTERM');
      blocker.close();
    }
  });
});
