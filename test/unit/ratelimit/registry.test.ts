/** The rate limiters' registry as the change feed reads it. */
import assert from 'node:assert/strict';
import { Diagnostics } from '../../../agent/log';
import { createRateLimits } from '../../../agent/ratelimit';

describe('rate limit registry', () => {
  it('a new limiter moves the revision before its first request, so the stream shows it at once', async () => {
    const rl = createRateLimits({ diag: new Diagnostics(undefined, () => {}) });
    try {
      const before = rl.revision();
      rl.create({ name: 'api', windowMs: 1000, max: 1 });
      assert.ok(rl.revision() > before);
      assert.deepEqual(rl.list().map((l) => [l.name, l.allowed]), [['api', 0]]);
    } finally {
      await rl.close();
    }
  });
});
