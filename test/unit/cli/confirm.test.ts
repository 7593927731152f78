import assert from 'node:assert/strict';
import { CONFIRMATION_TTL_MS, ConfirmationTokens } from '../../../cli/tools/confirm';

describe('ConfirmationTokens (invalidate_cache confirmation)', () => {
  it('a token is good once, for the same action, agent and arguments (key order does not matter)', () => {
    const t = new ConfirmationTokens();
    const token = t.issue('invalidate_cache', 'a1', { pattern: 'users:*', x: undefined });
    assert.deepEqual(t.redeem(token, 'invalidate_cache', 'a1', { pattern: 'users:*' }), { ok: true });
    assert.equal(t.redeem(token, 'invalidate_cache', 'a1', { pattern: 'users:*' }).ok, false);
  });

  it('refuses (and spends) a token for other arguments or another agent instance', () => {
    const t = new ConfirmationTokens();
    const a = t.issue('invalidate_cache', 'pid1:start1', { key: 'k' });
    assert.match((t.redeem(a, 'invalidate_cache', 'pid1:start1', { key: 'k2' }) as { reason: string }).reason, /other arguments/);
    assert.equal(t.redeem(a, 'invalidate_cache', 'pid1:start1', { key: 'k' }).ok, false, 'spent by the failed attempt');
    const b = t.issue('invalidate_cache', 'pid1:start1', { key: 'k' });
    assert.equal(t.redeem(b, 'invalidate_cache', 'pid1:start2', { key: 'k' }).ok, false, 'the app restarted');
  });

  it('expires after its time to live', () => {
    let now = 1000;
    const t = new ConfirmationTokens(CONFIRMATION_TTL_MS, () => now);
    const token = t.issue('invalidate_cache', 'a', { tag: 't' });
    now += CONFIRMATION_TTL_MS + 1;
    assert.match((t.redeem(token, 'invalidate_cache', 'a', { tag: 't' }) as { reason: string }).reason, /expired/);
  });

  it('holds at most 64 outstanding tokens', () => {
    const t = new ConfirmationTokens();
    for (let i = 0; i < 100; i++) t.issue('invalidate_cache', 'a', { key: String(i) });
    assert.equal(t.size, 64);
  });
});
