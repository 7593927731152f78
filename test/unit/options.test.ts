import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RouteLensError } from '../../agent/errors';
import { type AgentOptions, resolveOptions } from '../../agent/options';
import { createCache } from '../../agent/cache';
import { Diagnostics, consoleLogger } from '../../agent/log';

const cwd = mkdtempSync(join(tmpdir(), 'routelens-opts-'));
writeFileSync(join(cwd, 'package.json'), JSON.stringify({ name: 'shop-api' }));

/** Asserts that `fn` throws ROUTELENS_ERR_INVALID_OPTION with a message matching `message`. */
function assertInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RouteLensError, String(err));
    assert.equal(err.code, 'ROUTELENS_ERR_INVALID_OPTION');
    assert.match(err.message, message);
    return true;
  });
}

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
    assert.equal(a.logger, undefined);
    assert.deepEqual(a.warnings, []);
  });

  it('lets ROUTELENS_* environment variables override options', () => {
    const r = resolveOptions(
      { port: 1234, host: 'localhost', name: 'x', redis: 'redis://option:1' },
      { ROUTELENS_PORT: '4567', ROUTELENS_HOST: '::1', ROUTELENS_TOKEN: 't'.repeat(20), ROUTELENS_DISCOVERY_DIR: '/tmp/d', ROUTELENS_NAME: 'env-name', ROUTELENS_REDIS_URL: 'redis://127.0.0.1:1' },
      cwd,
    );
    assert.deepEqual([r.port, r.host, r.token, r.discoveryDir, r.name, r.redis], [4567, '::1', 't'.repeat(20), '/tmp/d', 'env-name', 'redis://127.0.0.1:1']);
    assert.deepEqual(r.warnings, []);
  });

  it('ROUTELENS_DISABLED=1 or true disables measuring whatever the options say', () => {
    assert.equal(resolveOptions({ enabled: true }, { ROUTELENS_DISABLED: '1' }, cwd).enabled, false);
    assert.equal(resolveOptions({}, { ROUTELENS_DISABLED: 'true' }, cwd).enabled, false);
    assert.equal(resolveOptions({}, { ROUTELENS_DISABLED: '0' }, cwd).enabled, true);
  });

  it('throws ROUTELENS_ERR_INVALID_OPTION naming the option for bad values passed in code', () => {
    const cases: Array<[object, RegExp]> = [
      [{ port: 70000 }, /^option "port" must be an integer from 0 to 65535, got number 70000$/],
      [{ port: -1 }, /"port"/],
      [{ token: 'short' }, /^option "token" must be a string of 16 to 1024 characters, got 5 characters$/],
      [{ batchMs: 0 }, /"batchMs" must be a number from 10 to 60000/],
      [{ heartbeatMs: 1.5 }, /"heartbeatMs"/],
      [{ systemMs: 50 }, /"systemMs"/],
      [{ maxEndpoints: -1 }, /"maxEndpoints"/],
      [{ enabled: 'false' }, /^option "enabled" must be true or false, got "false"$/],
      [{ logger: 'debug' }, /^option "logger" must be an object with warn\(\) and error\(\) methods, true \(the console\) or false, got "debug"$/],
      [{ logger: { warn: 1 } }, /"logger"/],
      [{ redis: 42 }, /"redis" must be a redis:\/\/ or rediss:\/\/ URL, or an ioredis client/],
      [{ redis: 'localhost:6379' }, /^option "redis" must be a redis:\/\/ or rediss:\/\/ URL, got "localhost:6379"$/],
      [{ redis: { getBuffer() {}, options: { keyPrefix: 'app:' } } }, /"redis" must be an ioredis client without keyPrefix/],
      [{ discoveryDir: true }, /"discoveryDir" must be a directory path or false/],
      [{ name: 42 }, /"name"/],
      [{ cache: 'yes' }, /"cache" must be an object/],
      [{ thresholds: { p95Ms: -5 } }, /^option "thresholds.p95Ms": .*>0.*, got number -5$/],
      [{ thresholds: { slowMs: { info: 'fast' } } }, /"thresholds.slowMs.info"/],
    ];
    for (const [opts, message] of cases) assertInvalid(() => resolveOptions(opts as AgentOptions, {}, cwd), message);
  });

  it('refuses unknown and misspelt options, naming the nearest valid one', () => {
    assertInvalid(() => resolveOptions({ prot: 4000 } as AgentOptions, {}, cwd), /^unknown createAgent option "prot": did you mean "port"\?$/);
    assertInvalid(() => resolveOptions({ thresholds: { p95: 100 } } as AgentOptions, {}, cwd), /^unknown thresholds option "p95": did you mean "p95Ms"\?$/);
    assertInvalid(() => resolveOptions({ thresholds: { slowMs: { warn: 1 } } } as AgentOptions, {}, cwd), /^unknown thresholds.slowMs option "warn": did you mean "warning"\?$/);
    assertInvalid(() => resolveOptions({ Logger: true } as AgentOptions, {}, cwd), /did you mean "logger"/);
    assertInvalid(() => resolveOptions({ zzzzzzzz: 1 } as AgentOptions, {}, cwd), /^unknown createAgent option "zzzzzzzz" \(known: name, enabled, port,/);
  });

  it('never echoes a bad token back in an error or a warning', () => {
    assert.throws(() => resolveOptions({ token: 'secret' }, {}, cwd), (err: Error) => !err.message.includes('secret'));
    const r = resolveOptions({}, { ROUTELENS_TOKEN: 'secret' }, cwd);
    assert.equal(r.warnings.length, 1);
    assert.ok(!r.warnings[0]!.message.includes('secret'), r.warnings[0]!.message);
    assert.match(r.token, /^[0-9a-f]{64}$/, 'a random token instead');
  });

  describe('a bad environment value is ignored with one warning, and the option or the default applies', () => {
    const cases: Array<[Record<string, string>, AgentOptions, string, RegExp, (r: ReturnType<typeof resolveOptions>) => unknown, unknown]> = [
      [{ ROUTELENS_PORT: 'abc' }, {}, 'ROUTELENS_PORT', /^ROUTELENS_PORT="abc" ignored: it takes an integer from 0 to 65535; the local server uses port 0 \(any free port\)$/, (r) => r.port, 0],
      [{ ROUTELENS_PORT: '99999' }, { port: 4100 }, 'ROUTELENS_PORT', /ROUTELENS_PORT="99999" ignored: .*; the local server uses port 4100$/, (r) => r.port, 4100],
      [
        { ROUTELENS_REDIS_URL: 'localhost:6379' },
        {},
        'ROUTELENS_REDIS_URL',
        /^ROUTELENS_REDIS_URL="localhost:6379" ignored: it takes a redis:\/\/ or rediss:\/\/ URL \(for example redis:\/\/localhost:6379\); the cache and rate limits run in memory, without Redis$/,
        (r) => r.redis,
        undefined,
      ],
      [{ ROUTELENS_DISABLED: 'yes' }, {}, 'ROUTELENS_DISABLED', /^ROUTELENS_DISABLED="yes" ignored: it takes 1 or true \(or 0 or false\); measuring is on$/, (r) => r.enabled, true],
      [{ ROUTELENS_P95_MS: 'fast' }, { thresholds: { p95Ms: 700 } }, 'ROUTELENS_P95_MS', /^ROUTELENS_P95_MS="fast" ignored: it takes a number of milliseconds > 0; the alert uses the option or the default$/, (r) => r.thresholds.p95Ms, 700],
    ];
    for (const [env, options, variable, message, read, expected] of cases) {
      it(`${variable}=${Object.values(env)[0]}`, () => {
        const r = resolveOptions(options, env, cwd);
        assert.deepEqual(
          r.warnings.map((w) => [w.code, w.once]),
          [['ROUTELENS_WARN_INVALID_ENV', variable]],
        );
        assert.match(r.warnings[0]!.message, message);
        assert.equal(read(r), expected);
      });
    }
  });

  it('reads ROUTELENS_REDIS_URL, not REDIS_URL, and says so once when only REDIS_URL is set', () => {
    const r = resolveOptions({}, { REDIS_URL: 'redis://app-data:6379' }, cwd);
    assert.equal(r.redis, undefined);
    assert.deepEqual(r.warnings.map((w) => w.code), ['ROUTELENS_WARN_REDIS_URL_IGNORED']);
    assert.match(r.warnings[0]!.message, /^REDIS_URL is set, but the agent reads ROUTELENS_REDIS_URL .* set ROUTELENS_REDIS_URL$/);
    assert.deepEqual(resolveOptions({ redis: 'redis://mine:1' }, { REDIS_URL: 'redis://app-data:6379' }, cwd).warnings, [], 'an explicit redis option: nothing to say');
    assert.deepEqual(resolveOptions({}, { REDIS_URL: 'redis://a:1', ROUTELENS_REDIS_URL: 'redis://b:1' }, cwd).warnings, []);
  });

  it('merges thresholds: defaults, then options, then the environment', () => {
    const r = resolveOptions({ thresholds: { p95Ms: 500, slowMs: { info: 300 } } }, { ROUTELENS_ERROR_RATE: '0.2' }, cwd);
    assert.equal(r.thresholds.p95Ms, 500);
    assert.equal(r.thresholds.errorRate, 0.2);
    assert.deepEqual(r.thresholds.slowMs, { info: 300, warning: 5000, critical: 10000 });
    assert.equal(resolveOptions({ thresholds: { p95Ms: 500 } }, { ROUTELENS_P95_MS: '900' }, cwd).thresholds.p95Ms, 900);
  });

  it('logger: true and ROUTELENS_DEBUG=1 are the console; false and absent are none', () => {
    assert.equal(resolveOptions({ logger: true }, {}, cwd).logger, consoleLogger);
    assert.equal(resolveOptions({}, { ROUTELENS_DEBUG: '1' }, cwd).logger, consoleLogger);
    assert.equal(resolveOptions({ logger: false }, {}, cwd).logger, undefined);
  });
});

describe('createCache options', () => {
  it('checks the redis option with the same rule as createAgent, and refuses misspelt options', () => {
    assertInvalid(() => createCache({ redis: 'localhost:6379' }), /^option "cache.redis" must be a redis:\/\/ or rediss:\/\/ URL, got "localhost:6379"$/);
    assertInvalid(() => createCache({ maxEntrys: 10 } as never), /^unknown cache option "maxEntrys": did you mean "maxEntries"\?$/);
    assertInvalid(() => createCache({ maxEntries: 0 }), /^option "cache.maxEntries" must be a number ≥ 1, got number 0$/);
  });
});

describe('Diagnostics', () => {
  it('writes start-up warnings once to stderr without a logger, and nothing else', () => {
    const lines: string[] = [];
    const diag = new Diagnostics(undefined, (line) => lines.push(line));
    diag.warnOnce('ROUTELENS_WARN_PORT_IN_USE', 'port 4000 is in use');
    diag.warnOnce('ROUTELENS_WARN_PORT_IN_USE', 'port 4000 is in use');
    diag.warnOnce('ROUTELENS_WARN_INVALID_ENV', 'A ignored', 'A');
    diag.warnOnce('ROUTELENS_WARN_INVALID_ENV', 'B ignored', 'B');
    diag.warnOnce('ROUTELENS_WARN_ENDPOINT_CAP', 'too many endpoints');
    diag.failure('server.http', new Error('boom'));
    assert.deepEqual(lines, ['port 4000 is in use (ROUTELENS_WARN_PORT_IN_USE)', 'A ignored (ROUTELENS_WARN_INVALID_ENV)', 'B ignored (ROUTELENS_WARN_INVALID_ENV)']);
  });

  it('sends every warning to the logger when one is given, and none to stderr', () => {
    const warned: string[] = [];
    const stderr: string[] = [];
    const diag = new Diagnostics({ warn: (m) => warned.push(m), error() {} }, (line) => stderr.push(line));
    diag.warnOnce('ROUTELENS_WARN_PORT_IN_USE', 'port 4000 is in use');
    diag.warnOnce('ROUTELENS_WARN_ENDPOINT_CAP', 'too many endpoints');
    assert.deepEqual(warned, ['port 4000 is in use (ROUTELENS_WARN_PORT_IN_USE)', 'too many endpoints (ROUTELENS_WARN_ENDPOINT_CAP)']);
    assert.deepEqual(stderr, []);
  });
});
