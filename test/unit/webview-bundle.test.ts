import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(__dirname, '..', '..');

describe('webview bundle contents', () => {
  it('bundles protocol/ (feed, format, webview, messages) but no validation library: no zod, no protocol/validate.ts', async function () {
    this.timeout(30_000);
    // The same options as scripts/build.mjs's webview bundle, kept in memory.
    const r = await build({ absWorkingDir: root, entryPoints: ['webview/main.ts'], bundle: true, write: false, metafile: true, platform: 'browser', format: 'iife', target: 'es2022', logLevel: 'silent' });
    const inputs = Object.keys(r.metafile.inputs);
    assert.deepEqual(inputs.filter((f) => /node_modules[\\/]zod[\\/]|protocol[\\/]validate\.ts$/.test(f)), []);
    for (const f of ['protocol/feed.ts', 'protocol/format.ts', 'protocol/webview.ts', 'protocol/messages.ts']) assert.ok(inputs.includes(f), `${f} is bundled`);
  });

  it('dist/webview/main.js (when built) holds no zod', function () {
    const file = join(root, 'dist/webview/main.js');
    if (!existsSync(file)) this.skip();
    const src = readFileSync(file, 'utf8');
    assert.equal(/node_modules\/zod\/|ZodError|\$ZodType/.test(src), false);
  });
});
