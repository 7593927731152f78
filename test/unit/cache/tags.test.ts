import assert from 'node:assert/strict';
import { TagStamps } from '../../../agent/cache/tags';

describe('TagStamps (tag invalidation timestamps)', () => {
  it('obsoletes an entry produced before its tag was last invalidated, not one produced after', () => {
    const stamps = new TagStamps();
    assert.equal(stamps.obsoletes({ tags: ['a'], createdAt: 10 }), false);
    stamps.stamp('a', 20);
    assert.equal(stamps.obsoletes({ tags: ['b', 'a'], createdAt: 10 }), true);
    assert.equal(stamps.obsoletes({ tags: ['a'], createdAt: 20 }), false);
    assert.equal(stamps.obsoletes({ tags: ['b'], createdAt: 10 }), false);
    assert.equal(stamps.obsoletes({ tags: undefined, createdAt: 10 }), false);
    stamps.clear();
    assert.equal(stamps.obsoletes({ tags: ['a'], createdAt: 10 }), false);
  });

  it('keeps at most 10 000 tags, forgetting the least recently stamped first', () => {
    const stamps = new TagStamps();
    for (let i = 0; i < 10_000; i++) stamps.stamp(`t${i}`, 100);
    stamps.stamp('t0', 100); // restamped: now the most recent
    stamps.stamp('new', 100);
    assert.equal(stamps.obsoletes({ tags: ['t0'], createdAt: 1 }), true);
    assert.equal(stamps.obsoletes({ tags: ['t1'], createdAt: 1 }), false, 't1 was the least recently stamped');
    assert.equal(stamps.obsoletes({ tags: ['t2'], createdAt: 1 }), true);
    assert.equal(stamps.obsoletes({ tags: ['new'], createdAt: 1 }), true);
  });
});
