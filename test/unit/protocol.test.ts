import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_THRESHOLDS } from '../../agent/alerts/thresholds';
import { ERROR_CODES, SCALAR_THRESHOLDS, THRESHOLD_SPECS, inRange } from '../../protocol';
import { parseClientMessage, parseWebviewMessage, thresholdsPatch } from '../../protocol/validate';

describe('protocol parseClientMessage', () => {
  it('accepts a valid command and returns its parsed arguments', () => {
    const r = parseClientMessage(JSON.stringify({ type: 'command', id: 7, command: 'reset', args: { endpoint: 'GET /a' } }));
    assert.equal(r.ok, true);
    if (r.ok) assert.deepEqual(r.args, { endpoint: 'GET /a' });
  });

  it('answers malformed JSON with ERR_BAD_JSON and no id', () => {
    assert.deepEqual(parseClientMessage('{nope'), { ok: false, id: null, error: { code: 'ERR_BAD_JSON', message: 'message is not valid JSON' } });
  });

  it('keeps the request id on unknown commands and bad arguments', () => {
    const unknown = parseClientMessage(JSON.stringify({ type: 'command', id: 'a1', command: 'rm -rf' }));
    assert.equal(unknown.ok, false);
    if (!unknown.ok) assert.deepEqual([unknown.id, unknown.error.code], ['a1', 'ERR_UNKNOWN_COMMAND']);
    const bad = parseClientMessage(JSON.stringify({ type: 'command', id: 3, command: 'rateLimit.setMax', args: { limiter: 'x', max: 'ten' } }));
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.deepEqual([bad.id, bad.error.code], [3, 'ERR_BAD_ARGS']);
  });

  it('refuses __proto__ keys in arguments instead of merging them', () => {
    const r = parseClientMessage('{"type":"command","id":1,"command":"thresholds.set","args":{"thresholds":{"__proto__":{"p95Ms":1}}}}');
    assert.equal(r.ok, false);
    assert.equal(({} as Record<string, unknown>).p95Ms, undefined);
  });

  it('requires exactly one of key, pattern or tag for cache.invalidate', () => {
    const two = parseClientMessage(JSON.stringify({ type: 'command', id: 1, command: 'cache.invalidate', args: { key: 'a', tag: 'b' } }));
    assert.equal(two.ok, false);
    const one = parseClientMessage(JSON.stringify({ type: 'command', id: 1, command: 'cache.invalidate', args: { tag: 'b', dryRun: true } }));
    assert.equal(one.ok, true);
  });
});

describe('protocol parseWebviewMessage', () => {
  it('refuses commands outside the webview allow-list', () => {
    assert.equal(parseWebviewMessage({ type: 'command', id: 1, command: 'snapshot' }).ok, false);
    assert.equal(parseWebviewMessage({ type: 'command', id: 1, command: 'cache.invalidate', args: { key: 'k' } }).ok, true);
    assert.equal(parseWebviewMessage({ type: 'openHandler', endpointId: 'GET /', extra: 1 }).ok, false);
  });
});

describe('protocol ERROR_CODES', () => {
  it('documents every code in docs/protocol.md', () => {
    const doc = readFileSync(join(__dirname, '../../docs/protocol.md'), 'utf8');
    for (const code of Object.keys(ERROR_CODES)) assert.ok(doc.includes(code), `${code} missing from docs/protocol.md`);
  });
});

describe('protocol thresholds table', () => {
  it('describes every scalar threshold the agent has, and each default is in its own range', () => {
    const scalars = Object.keys(DEFAULT_THRESHOLDS).filter((k) => k !== 'slowMs').sort();
    assert.deepEqual([...SCALAR_THRESHOLDS].sort(), scalars);
    for (const k of SCALAR_THRESHOLDS) assert.ok(inRange(THRESHOLD_SPECS[k], DEFAULT_THRESHOLDS[k]), `${k} default ${DEFAULT_THRESHOLDS[k]}`);
  });

  it("the agent's validation accepts exactly the table's range at each bound", () => {
    for (const k of SCALAR_THRESHOLDS) {
      const spec = THRESHOLD_SPECS[k];
      const ok = (v: number) => thresholdsPatch.safeParse({ [k]: v }).success;
      assert.equal(ok(spec.max), true, `${k} at max`);
      assert.equal(ok(spec.max * 1.001 + 1), false, `${k} over max`);
      assert.equal(ok(spec.min), spec.minInclusive, `${k} at min`);
      assert.equal(ok(spec.min - 1), false, `${k} under min`);
      assert.equal(ok(Number.NaN), false, `${k} NaN`);
    }
  });
});
