import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouteLensError } from '../../agent/errors';
import { resolveOptions } from '../../agent/options';

const cwd = mkdtempSync(join(tmpdir(), 'routelens-opts-'));
writeFileSync(join(cwd, 'package.json'), JSON.stringify({ name: 'shop-api' }));

describe('resolveOptions', () => {
  it('defaults to loopback, any free port, a random 64-hex token and the package name', () => {
    const a = resolveOptions({}, {}, cwd);
    const b = resolveOptions({}, {}, cwd);
    assert.equal(a.host, '127.0.0.1');
    assert.equal(a.port, 0);
    assert.match(a.token, /^[0-9a-f]{64}$/);
    assert.notEqual(a.token, b.token);
    assert.equal(a.name, 'shop-api');
    assert.equal(a.enabled, true);
    assert.equal(a.maxEndpoints, 2000);
    assert.equal(a.batchMs, 250);
    assert.equal(a.evaluateMs, 1000);
    assert.equal(a.systemMs, 1000);
  });

  it('lets ROUTELENS_* environment variables override options', () => {
    const r = resolveOptions(
      { port: 1234, host: 'localhost', name: 'x' },
      { ROUTELENS_PORT: '4567', ROUTELENS_HOST: '::1', ROUTELENS_TOKEN: 't'.repeat(20), ROUTELENS_DISCOVERY_DIR: '/tmp/d', ROUTELENS_NAME: 'env-name', REDIS_URL: 'redis://127.0.0.1:1' },
      cwd,
    );
    assert.deepEqual([r.port, r.host, r.token, r.discoveryDir, r.name, r.redis], [4567, '::1', 't'.repeat(20), '/tmp/d', 'env-name', 'redis://127.0.0.1:1']);
  });

  it('ROUTELENS_DISABLED=1 disables measuring whatever the options say', () => {
    assert.equal(resolveOptions({ enabled: true }, { ROUTELENS_DISABLED: '1' }, cwd).enabled, false);
  });

  it('throws ROUTELENS_ERR_INVALID_OPTION with the option name for bad values', () => {
    const cases: Array<[object, Record<string, string>, RegExp]> = [
      [{ port: 70000 }, {}, /"port"/],
      [{}, { ROUTELENS_PORT: 'abc' }, /ROUTELENS_PORT/],
      [{ token: 'short' }, {}, /"token"/],
      [{ batchMs: 0 }, {}, /"batchMs"/],
      [{ systemMs: 50 }, {}, /"systemMs"/],
      [{ maxEndpoints: -1 }, {}, /"maxEndpoints"/],
      [{ logger: { warn: 1 } }, {}, /"logger"/],
      [{ redis: 42 }, {}, /"redis"/],
    ];
    for (const [opts, env, message] of cases) {
      assert.throws(
        () => resolveOptions(opts as never, env, cwd),
        (err: unknown) => err instanceof RouteLensError && err.code === 'ROUTELENS_ERR_INVALID_OPTION' && message.test(err.message),
      );
    }
  });

  it('never echoes a bad token back in the error message', () => {
    assert.throws(() => resolveOptions({ token: 'secret' }, {}, cwd), (err: Error) => !err.message.includes('secret'));
  });
});
