import assert from 'node:assert/strict';
import { MAX_PATH, redactUrl, truncate } from '../../../agent/metrics/text';

describe('metrics text: redactUrl and truncate', () => {
  it('redactUrl replaces every query value, keeps keys and the path', () => {
    assert.equal(redactUrl('/s'), '/s');
    assert.equal(redactUrl('/s?'), '/s?');
    assert.equal(redactUrl('/s?q=a%20b&q=2&&x=&flag'), '/s?q=*&q=*&&x=*&flag');
    assert.equal(redactUrl('/s?a=b=c'), '/s?a=*');
    assert.equal(redactUrl(undefined as unknown as string), '');
  });

  it('redactUrl is bounded by MAX_PATH whatever the URL, and leaks no value when cut', () => {
    const longPath = '/' + 'p'.repeat(70_000) + '?secret=1';
    const a = redactUrl(longPath);
    assert.equal(a.length, MAX_PATH);
    assert.ok(!a.includes('secret'));
    const longKey = '/k?' + 'k'.repeat(10_000) + '=value';
    const b = redactUrl(longKey);
    assert.ok(b.length <= MAX_PATH);
    assert.ok(!b.includes('value'));
    const manyEmpty = '/e?' + '&'.repeat(100_000);
    assert.ok(redactUrl(manyEmpty).length <= MAX_PATH);
  });

  it('truncate never splits a surrogate pair and marks the cut', () => {
    const s = 'a'.repeat(8) + '😀' + 'b'.repeat(10);
    const t = truncate(s, 10); // the emoji would straddle the cut
    assert.equal(t, 'a'.repeat(8) + '…');
    assert.equal(truncate('short', 10), 'short');
    assert.equal(truncate('x'.repeat(20), 10), 'x'.repeat(9) + '…');
  });
});
