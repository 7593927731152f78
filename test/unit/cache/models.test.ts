/**
 * The models behind the cache's newer features, on their own: the access
 * model (prediction), the per-priority L1 under one budget, the hot-key
 * counter.
 */
import assert from 'node:assert/strict';
import { HotKeys } from '../../../agent/cache/hot';
import { PriorityL1 } from '../../../agent/cache/l1';
import { AccessModel } from '../../../agent/cache/predict';
import type { Entry } from '../../../agent/cache/entry';

const model = (o: Partial<ConstructorParameters<typeof AccessModel>[0]> = {}) => new AccessModel({ window: 1000, maxKeys: 1000, minCount: 3, minConfidence: 0.5, ...o });

function entry(size: number): Entry {
  return { value: null, size, expiresAt: 0, staleUntil: 0, l1Until: 0, createdAt: 0, tags: undefined, ns: { namespace: '', hits: 0, misses: 0, entries: 0 }, hits: 0 };
}

describe('AccessModel (predictive preloading)', () => {
  it('predicts B after A only once A → B was seen minCount times', () => {
    const m = model();
    let t = 0;
    const walk = () => {
      assert.equal(m.observe('a', (t += 10)), m.predict('a'));
      m.observe('b', (t += 10));
      t += 5000; // outside the window: b → a of the next walk is not a transition
    };
    walk();
    walk();
    assert.equal(m.predict('a'), undefined, 'two sightings are not enough');
    walk();
    assert.equal(m.predict('a'), 'b');
    assert.equal(m.predict('b'), undefined, 'b was never followed within the window');
  });

  it('reads further apart than the window are not transitions', () => {
    const m = model({ window: 100 });
    let t = 0;
    for (let i = 0; i < 10; i++) {
      m.observe('a', (t += 1000));
      m.observe('b', (t += 101));
    }
    assert.equal(m.predict('a'), undefined);
    assert.equal(m.size, 0);
  });

  it('needs the successor to dominate: spread successors predict nothing', () => {
    const m = model();
    let t = 0;
    for (let i = 0; i < 40; i++) {
      m.observe('a', (t += 1));
      m.observe(`next${i % 4}`, (t += 1));
      t += 5000;
    }
    assert.equal(m.predict('a'), undefined, 'four successors at 25 % each');
    for (let i = 0; i < 60; i++) {
      m.observe('a', (t += 1));
      m.observe('next0', (t += 1));
      t += 5000;
    }
    assert.equal(m.predict('a'), 'next0');
  });

  it('keeps at most maxKeys keys (least recently read forgotten first)', () => {
    const m = model({ maxKeys: 10, minCount: 1 });
    for (let i = 0; i < 100; i++) m.observe(`k${i}`, i);
    assert.equal(m.size, 10);
    assert.equal(m.predict('k98'), 'k99');
    assert.equal(m.predict('k1'), undefined);
  });
});

describe('PriorityL1 (lru-cache per priority, one budget)', () => {
  it('under byte pressure evicts low, then normal, then high, each least recently used first', () => {
    const evicted: string[] = [];
    const l1 = new PriorityL1(100, 100, (_, key, reason) => {
      if (reason === 'evict') evicted.push(key);
    });
    l1.set('h1', entry(20), 'high');
    l1.set('n1', entry(20), 'normal');
    l1.set('l1', entry(20), 'low');
    l1.set('l2', entry(20), 'low');
    l1.set('n2', entry(20), 'normal');
    assert.equal(l1.calculatedSize, 100);
    l1.get('l1'); // l2 is now the least recently used low entry
    l1.set('h2', entry(20), 'high');
    assert.deepEqual(evicted, ['l2']);
    l1.set('h3', entry(30), 'high');
    assert.deepEqual(evicted, ['l2', 'l1', 'n1']);
    assert.deepEqual(l1.counts(), { high: 3, normal: 1, low: 0 });
    assert.ok(l1.calculatedSize <= 100);
  });

  it('a low-priority write into a cache full of high entries evicts itself, not them', () => {
    const l1 = new PriorityL1(3, 1_000_000, () => {});
    for (const k of ['a', 'b', 'c']) l1.set(k, entry(1), 'high');
    l1.set('x', entry(1), 'low');
    assert.equal(l1.peek('x'), undefined);
    assert.deepEqual([...l1.keys()].sort(), ['a', 'b', 'c']);
  });

  it('moving a key to another priority keeps one copy; delete and clear reach every priority', () => {
    let disposed = 0;
    const l1 = new PriorityL1(10, 1000, () => disposed++);
    l1.set('k', entry(5), 'low');
    l1.set('k', entry(6), 'high');
    assert.equal(l1.size, 1);
    assert.equal(l1.calculatedSize, 6);
    assert.equal(l1.peek('k')?.size, 6);
    assert.equal(disposed, 1);
    l1.set('m', entry(1), 'normal');
    assert.equal(l1.delete('k'), true);
    assert.equal(l1.has('k'), false);
    l1.clear();
    assert.equal(l1.size, 0);
  });
});

describe('HotKeys (reads from L2 per minute)', () => {
  it('a key is hot past the threshold within a minute, and cools down after', () => {
    const hot = new HotKeys(5, 100);
    let t = 0;
    for (let i = 0; i < 5; i++) assert.equal(hot.read('k', (t += 1000)), false);
    assert.equal(hot.read('k', t + 1000), true, 'sixth read in a minute');
    // The next minute still carries the previous one's weight at its start...
    t = 61_000;
    assert.equal(hot.read('k', t), true);
    // ...but two quiet minutes later it is cold.
    t = 200_000;
    assert.equal(hot.read('k', t), false);
  });

  it('counts reads given in bulk (a promoted copy\'s L1 hits)', () => {
    const hot = new HotKeys(10, 100);
    assert.equal(hot.read('k', 0, 11), true);
    assert.equal(hot.read('other', 0, 10), false);
  });

  it('keeps at most maxKeys counters', () => {
    const hot = new HotKeys(2, 3);
    for (const k of ['a', 'b', 'c', 'd']) hot.read(k, 0, 2);
    // 'a' was forgotten: its count starts again.
    assert.equal(hot.read('a', 1), false);
    assert.equal(hot.read('d', 1), true);
  });
});
