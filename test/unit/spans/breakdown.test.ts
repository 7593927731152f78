import assert from 'node:assert/strict';
import type { Span } from '../../../protocol';
import { aggregate, summarise, union } from '../../../agent/spans/breakdown';

const span = (kind: Span['kind'], name: string, startMs: number, durationMs: number): Span => ({ kind, name, startMs, durationMs });

describe('breakdown', () => {
  it('attributes each instant to the most specific span; what only the handler covers is own', () => {
    const spans = [span('middleware', 'auth', 0, 10), span('handler', 'h', 10, 90), span('db', 'q', 20, 60), span('custom', 'c', 10, 80)];
    const s = summarise(spans, 100, 0);
    const b = aggregate('GET /x', '1m', [s], 1, true);
    const share = (k: string) => b.kinds.find((x) => x.kind === k)?.share ?? 0;
    assert.equal(share('middleware'), 0.1);
    assert.equal(share('db'), 0.6);
    assert.equal(share('custom'), 0.2);
    assert.equal(share('own'), 0.1);
    assert.equal(b.kinds.reduce((a, k) => a + k.share, 0), 1);
  });
  it('counts concurrent runs of one operation once in its share, every run in its time', () => {
    const spans = [span('db', 'q', 0, 50), span('db', 'q', 0, 50), span('db', 'q', 0, 50)];
    const b = aggregate('GET /x', '1m', [summarise(spans, 100, 0)], 1, false);
    assert.deepEqual(b.top, [{ kind: 'db', name: 'q', perRequest: 3, meanMs: 150, share: 0.5 }]);
    assert.equal(b.kinds.find((k) => k.kind === 'db')!.share, 0.5);
  });
  it('averages over requests', () => {
    const a = summarise([span('http', 'GET h/', 0, 10)], 20, 0);
    const c = summarise([], 20, 0);
    const b = aggregate('GET /x', '5m', [a, c], 10, true);
    assert.equal(b.traced, 2);
    assert.equal(b.requests, 10);
    assert.equal(b.kinds.find((k) => k.kind === 'http')!.meanMs, 5);
    assert.equal(b.top[0]!.perRequest, 0.5);
  });
  it('union merges overlapping intervals', () => {
    assert.equal(union([[0, 10], [5, 15], [20, 30]]), 25);
  });
});
