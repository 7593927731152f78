/** The `slowLog` option and ROUTELENS_SLOW_LOG_DIR, through resolveOptions (the one validator). */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouteLensError } from '../../agent/errors';
import { type AgentOptions, resolveOptions } from '../../agent/options';

const cwd = join(tmpdir(), 'routelens-slowlog-opts');
const resolve = (slowLog: unknown, env: NodeJS.ProcessEnv = {}) => resolveOptions({ name: 'x', slowLog } as AgentOptions, env, cwd).slowLog;

describe('slowLog option', () => {
  it('is off by default and with false', () => {
    assert.equal(resolve(undefined), false);
    assert.equal(resolve(false), false);
  });

  it('defaults maxBytes to 10 MiB and maxFiles to 5; a relative dir is taken from the working directory', () => {
    assert.deepEqual(resolve({ dir: 'logs' }), { dir: join(cwd, 'logs'), maxBytes: 10 * 1024 * 1024, maxFiles: 5 });
    assert.deepEqual(resolve({ dir: '/var/log/app', maxBytes: 4096, maxFiles: 1 }), { dir: '/var/log/app', maxBytes: 4096, maxFiles: 1 });
  });

  it('ROUTELENS_SLOW_LOG_DIR turns it on by itself and wins over dir', () => {
    const env = { ROUTELENS_SLOW_LOG_DIR: '/tmp/slow' };
    assert.deepEqual(resolve(undefined, env), { dir: '/tmp/slow', maxBytes: 10 * 1024 * 1024, maxFiles: 5 });
    assert.deepEqual(resolve({ dir: 'ignored', maxFiles: 2 }, env), { dir: '/tmp/slow', maxBytes: 10 * 1024 * 1024, maxFiles: 2 });
    assert.equal(resolve(undefined, { ROUTELENS_SLOW_LOG_DIR: '' }), false);
  });

  it('throws ROUTELENS_ERR_INVALID_OPTION naming the option for bad values', () => {
    const cases: Array<[unknown, RegExp]> = [
      [true, /"slowLog"/],
      ['logs', /"slowLog"/],
      [{}, /"slowLog\.dir"/],
      [{ dir: '' }, /"slowLog\.dir"/],
      [{ dir: 'a\0b' }, /"slowLog\.dir"/],
      [{ dir: 'logs', maxBytes: 100 }, /"slowLog\.maxBytes"/],
      [{ dir: 'logs', maxBytes: 1.5e3 + 0.5 }, /"slowLog\.maxBytes"/],
      [{ dir: 'logs', maxFiles: 0 }, /"slowLog\.maxFiles"/],
      [{ dir: 'logs', maxFiles: 101 }, /"slowLog\.maxFiles"/],
      [{ dir: 'logs', maxfiles: 3 }, /"slowLog\.maxfiles"/],
    ];
    for (const [value, name] of cases) {
      assert.throws(
        () => resolve(value),
        (err: unknown) => err instanceof RouteLensError && err.code === 'ROUTELENS_ERR_INVALID_OPTION' && name.test(err.message),
        JSON.stringify(value),
      );
    }
  });
});
