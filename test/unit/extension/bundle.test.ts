import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseWebviewMessage } from '../../../protocol/validate';

const root = join(__dirname, '..', '..', '..');

describe('extension bundle hygiene', () => {
  it('zod runs jitless in the extension (no new Function at run time) and still validates', () => {
    const before = z.config().jitless;
    try {
      require('../../../extension/core/jitless');
      assert.equal(z.config().jitless, true);
      assert.equal(parseWebviewMessage({ type: 'command', id: 1, command: 'reset', args: {} }).ok, true);
      assert.equal(parseWebviewMessage({ type: 'command', id: 1, command: 'reset', args: { x: 1 } }).ok, false);
    } finally {
      z.config({ jitless: before ?? false }); // other areas' tests share this zod instance
    }
  });

  it('dist/extension/extension.js calls no eval (when built)', function () {
    const file = join(root, 'dist/extension/extension.js');
    if (!existsSync(file)) this.skip();
    const src = readFileSync(file, 'utf8');
    assert.equal(/(^|[^\w.$])eval\s*\(/m.test(src), false);
    // `jitless: true` in a development build, `jitless:!0` in a minified one (npm run package).
    assert.match(src, /jitless:\s*(true|!0)/, 'the jitless switch is bundled');
  });

  it('package.json declares every command with the RouteLens category, and the extension kind', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const ids = readFileSync(join(root, 'extension/commands/ids.ts'), 'utf8').match(/'routelens\.[A-Za-z]+'/g)?.map((s) => s.slice(1, -1)) ?? [];
    assert.equal(ids.length, 21);
    assert.deepEqual(pkg.contributes.commands.map((c: { command: string }) => c.command).sort(), [...ids].sort());
    assert.ok(pkg.contributes.commands.every((c: { category: string }) => c.category === 'RouteLens'));
    assert.deepEqual(pkg.extensionKind, ['workspace']);
    for (const key of ['autoConnect', 'codeLens.enabled', 'codeLens.format', 'notifications', 'pathMappings', 'discoveryDir', 'reconnect.maxDelayMs']) {
      assert.ok(pkg.contributes.configuration.properties[`routelens.${key}`], key);
      assert.ok(readFileSync(join(root, 'docs/extension.md'), 'utf8').includes(`routelens.${key}`), `${key} documented`);
    }
  });
});
