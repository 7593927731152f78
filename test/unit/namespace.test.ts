/** appNamespace() and defaultAppName(): the per-app Redis namespace and the name it comes from. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveOptions } from '../../agent/cache/options';
import { appNamespace, defaultAppName } from '../../agent/namespace';

describe('app namespace', () => {
  it('appNamespace(): routelens:<name>: with no colon nor glob character, so one app never covers another', () => {
    assert.equal(appNamespace('shop'), 'routelens:shop:');
    assert.equal(appNamespace('@acme/shop-api'), 'routelens:@acme/shop-api:');
    assert.equal(appNamespace('shop:api'), 'routelens:shop_api:', 'app "shop" must not list the keys of app "shop:api"');
    assert.equal(appNamespace('my app*[1]?'), 'routelens:my_app__1__:');
    assert.equal(appNamespace(''), 'routelens:app:');
    assert.equal(appNamespace('x'.repeat(300)).length, 'routelens:'.length + 100 + 1);
  });

  it('defaultAppName(): ROUTELENS_NAME, else package.json name, else the folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'routelens-ns-'));
    const withPkg = join(dir, 'with-pkg');
    const bare = join(dir, 'bare-folder');
    mkdirSync(withPkg);
    mkdirSync(bare);
    writeFileSync(join(withPkg, 'package.json'), JSON.stringify({ name: 'orders-api' }));
    assert.equal(defaultAppName({ ROUTELENS_NAME: 'named' }, withPkg), 'named');
    assert.equal(defaultAppName({}, withPkg), 'orders-api');
    assert.equal(defaultAppName({}, bare), 'bare-folder');
  });

  it('a cache without an agent takes the namespace of the app it runs in; an explicit prefix and channel win', () => {
    // The tests run in the repository, whose package.json is named "routelens".
    const standalone = resolveOptions({});
    assert.equal(standalone.prefix, 'routelens:routelens:');
    assert.equal(standalone.channel, 'routelens:routelens:invalidations');
    const explicit = resolveOptions({ prefix: 'mine:' });
    assert.deepEqual([explicit.prefix, explicit.channel], ['mine:', 'mine:invalidations']);
    assert.equal(resolveOptions({ channel: 'news' }).channel, 'news');
  });
});
