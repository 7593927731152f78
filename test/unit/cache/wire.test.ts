/**
 * The formats instances of two versions share during a rolling restart: the
 * invalidation messages on the pub/sub channel and the envelope of an L2
 * value. Their short field names are pinned here, as peers.ts and envelope.ts
 * document them.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { decodeEnvelope, encodeEnvelope } from '../../../agent/cache/envelope';
import { decodePeerMessage, encodePeerMessage } from '../../../agent/cache/peers';

describe('peer invalidation messages (agent/cache/peers.ts)', () => {
  it('encodePeerMessage writes the short wire names, in a fixed order, leaving out absent fields', () => {
    assert.equal(encodePeerMessage({ sender: 'a', keys: ['users:1'] }), '{"i":"a","k":["users:1"]}');
    assert.equal(encodePeerMessage({ sender: 'a', pattern: 'users:*', event: { by: 'pattern', target: 'users:*' } }), '{"i":"a","p":"users:*","e":{"by":"pattern","target":"users:*"}}');
    assert.equal(encodePeerMessage({ sender: 'a', tag: 'org:1', tagStamp: 42, event: { by: 'tag', target: 'org:1' } }), '{"i":"a","t":"org:1","ts":42,"e":{"by":"tag","target":"org:1"}}');
    assert.equal(encodePeerMessage({ sender: 'a', clearAll: true }), '{"i":"a","c":1}');
  });

  it('decodePeerMessage reads what encodePeerMessage writes', () => {
    const m = { sender: 'b', keys: ['k1', 'k2'], pattern: 'p:*', tag: 't', tagStamp: 7, clearAll: true, event: { by: 'namespace' as const, target: 'p' } };
    assert.deepEqual(decodePeerMessage(encodePeerMessage(m)), m);
  });

  it('decodePeerMessage rejects messages without a sender and leaves out fields of the wrong type', () => {
    for (const text of ['not json', 'null', '[]', '42', '{"k":["a"]}', '{"i":5}']) assert.equal(decodePeerMessage(text), undefined, text);
    assert.deepEqual(decodePeerMessage('{"i":"x","k":["a",1,{}],"p":3,"t":{},"ts":"9","c":2,"e":{"by":"key"}}'), {
      sender: 'x',
      keys: ['a'],
      pattern: undefined,
      tag: undefined,
      tagStamp: undefined,
      clearAll: false,
      event: undefined,
    });
  });
});

describe('L2 envelope (agent/cache/envelope.ts)', () => {
  const meta = { expiresAt: 2_000, staleUntil: 3_000, createdAt: 1_000, tags: ['org:1'] };

  it('writes { e, s, c, t, v } and reads it back', async () => {
    const raw = encodeEnvelope(meta, '{"name":"Ada"}', Infinity);
    assert.ok(Buffer.isBuffer(raw), 'an uncompressed payload is built synchronously');
    assert.equal(raw.toString('utf8'), '{"e":2000,"s":3000,"c":1000,"t":["org:1"],"v":{"name":"Ada"}}');
    assert.deepEqual(await decodeEnvelope(raw, 5), { value: { name: 'Ada' }, size: raw.length, ...meta });
  });

  it('gzips past compressAbove and reads gzip by its magic bytes', async () => {
    const value = JSON.stringify('x'.repeat(1000));
    const raw = await encodeEnvelope({ ...meta, tags: undefined }, value, 100);
    assert.deepEqual([raw[0], raw[1]], [0x1f, 0x8b]);
    assert.ok(raw.length < 200, `${raw.length} bytes`);
    const d = await decodeEnvelope(raw, 5);
    assert.equal(d.value, 'x'.repeat(1000));
    assert.equal(d.tags, undefined);
  });

  it('reads an envelope that has only its value (missing fields: never expires, produced now, no tags)', async () => {
    assert.deepEqual(await decodeEnvelope(Buffer.from('{"v":[1,2]}'), 123), { value: [1, 2], size: 11, expiresAt: 0, staleUntil: 0, createdAt: 123, tags: undefined });
    assert.deepEqual((await decodeEnvelope(gzipSync('{"v":1,"t":["a",2]}'), 0)).tags, ['a']);
  });

  it('rejects a payload that is not an envelope', async () => {
    for (const text of ['plain text', 'null', '{"value":1}', '[1]']) await assert.rejects(decodeEnvelope(Buffer.from(text), 0), Error, text);
  });
});
