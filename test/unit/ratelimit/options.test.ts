/** resolveLimiterOptions() and validMax(): a limiter's options checked once, defaults applied. */
import assert from 'node:assert/strict';
import { RouteLensError } from '../../../agent/errors';
import { DEFAULT_MESSAGE, resolveLimiterOptions, validMax } from '../../../agent/ratelimit/options';

const context = (hasRedis = false, taken: string[] = []) => {
  let n = 0;
  return { hasRedis, namespace: 'routelens:shop:', defaultName: () => `limiter-${++n}`, isTaken: (name: string) => taken.includes(name) };
};
const invalid = (e: unknown) => e instanceof RouteLensError && e.code === 'ROUTELENS_ERR_INVALID_OPTION';

describe('rate limit options', () => {
  it('resolveLimiterOptions(): every default, the store following the agent, the prefix following the app namespace and the name', () => {
    const config = resolveLimiterOptions(undefined, context());
    assert.deepEqual(
      { ...config },
      {
        name: 'limiter-1',
        windowMs: 60_000,
        max: 100,
        algorithm: 'fixed-window',
        store: 'memory',
        onStoreError: 'memory',
        key: undefined,
        skip: undefined,
        allowList: undefined,
        legacyHeaders: false,
        standardHeaders: 'draft-8',
        message: DEFAULT_MESSAGE,
        statusCode: 429,
        handler: undefined,
        timeout: 50,
        prefix: 'routelens:shop:rl:limiter-1:',
        maxKeys: 10_000,
      },
    );
    assert.equal(resolveLimiterOptions({ name: 'api' }, context(true)).store, 'redis');
    assert.equal(resolveLimiterOptions({ name: 'api' }, context(true)).prefix, 'routelens:shop:rl:api:');
    assert.equal(resolveLimiterOptions({ name: 'api', prefix: 'mine:' }, context(true)).prefix, 'mine:', 'an explicit prefix wins');
  });

  it('resolveLimiterOptions(): an empty allow-list is none; a list becomes a set', () => {
    assert.equal(resolveLimiterOptions({ allowList: [] }, context()).allowList, undefined);
    assert.deepEqual([...resolveLimiterOptions({ allowList: ['a', 'b', 'a'] }, context()).allowList!], ['a', 'b']);
  });

  it('resolveLimiterOptions(): refuses a taken name, a non-object and an unknown option', () => {
    assert.throws(() => resolveLimiterOptions({ name: 'api' }, context(false, ['api'])), invalid);
    assert.throws(() => resolveLimiterOptions(null, context()), invalid);
    assert.throws(() => resolveLimiterOptions([], context()), invalid);
    assert.throws(() => resolveLimiterOptions({ limit: 3 }, context()), /unknown rate limit option "limit"/);
  });

  it('validMax(): an integer from 0 to 1e9, nothing else (not even undefined)', () => {
    assert.equal(validMax(0), 0);
    assert.equal(validMax(1e9), 1e9);
    for (const bad of [undefined, -1, 1.5, '5', 1e9 + 1]) assert.throws(() => validMax(bad), invalid, String(bad));
  });
});
