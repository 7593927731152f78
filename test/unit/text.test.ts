import assert from 'node:assert/strict';
import { round, truncate } from '../../agent/text';

describe('agent text helpers', () => {
  it('truncate keeps short strings, cuts to max including the mark, and never splits a surrogate pair', () => {
    assert.equal(truncate('abc', 3), 'abc');
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abcdef', 4, ''), 'abcd');
    assert.equal(truncate('abcdef', 5, '(+)'), 'ab(+)');
    assert.equal(truncate('a😀b', 3), 'a…', 'the pair is dropped whole, not halved');
  });

  it('round keeps three decimals unless told otherwise', () => {
    assert.equal(round(1.23456), 1.235);
    assert.equal(round(1.23456, 1), 1.2);
  });
});
