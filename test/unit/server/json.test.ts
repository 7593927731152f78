import assert from 'node:assert/strict';
import { MAX_STRING_CHARS, safeStringify } from '../../../agent/server/json';

describe('server safeStringify', () => {
  it('is plain JSON.stringify on ordinary values', () => {
    assert.equal(safeStringify({ a: [1, 'x'] }), '{"a":[1,"x"]}');
    assert.equal(safeStringify(undefined), 'null');
  });

  it('never throws on cycles, BigInt or a throwing toJSON, and truncates huge strings on that path', () => {
    const o: Record<string, unknown> = { n: 10n, s: 'z'.repeat(1024 * 1024) };
    o.o = o;
    const parsed = JSON.parse(safeStringify(o));
    assert.equal(parsed.o, '[Circular]');
    assert.equal(parsed.n, '10');
    assert.ok(parsed.s.length < MAX_STRING_CHARS + 100);
    assert.equal(safeStringify({ toJSON() { throw new Error('no'); } }), 'null');
  });
});
