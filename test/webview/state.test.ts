// The webview's state store and command tracker, in plain Node (they touch no DOM).
import assert from 'node:assert/strict';
import { Commands, StatusLine, type VsCodeApi } from '../../webview/host';
import { Ring } from '../../webview/ring';
import { LIMITS, Store, readPersisted } from '../../webview/state';
import { CACHE_EVENTS_KEPT, SLOW_REQUESTS_KEPT } from '../../protocol/feed';
import type { WebviewToHost } from '../../protocol/webview';
import { endpoint, endpoints, slowRequest, snapshot, system, T0 } from './fixtures';

describe('webview Ring', () => {
  it('keeps the newest items up to its capacity, oldest first', () => {
    const r = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) r.push(i);
    assert.deepEqual(r.toArray(), [3, 4, 5]);
    assert.equal(r.last(), 5);
    r.replaceLast(9);
    assert.deepEqual(r.toArray(), [3, 4, 9]);
  });
});

describe('webview Store', () => {
  it('merges deltas: endpoints replaced by id, removals, slow requests prepended and bounded', () => {
    const s = new Store();
    s.applySnapshot('a', snapshot(endpoints(3)));
    const changed = endpoint(2, undefined, 'GET', 5);
    s.applyDelta('a', { time: T0 + 1000, endpoints: [changed], removedEndpoints: ['GET /api/items3/:id'] });
    assert.equal(s.endpoints.size, 2);
    assert.deepEqual(s.endpoints.get(changed.id), changed);
    // The agent sends slow requests newest first; the state keeps the newest SLOW_REQUESTS_KEPT.
    const many = Array.from({ length: SLOW_REQUESTS_KEPT + 50 }, (_, i) => slowRequest(100 + i)).reverse();
    s.applyDelta('a', { time: T0 + 2000, slowRequests: many });
    assert.equal(s.slow.length, SLOW_REQUESTS_KEPT);
    assert.equal(s.slow[0]!.requestId, `r${100 + many.length - 1}`, 'newest first');
    assert.equal(s.slow[SLOW_REQUESTS_KEPT - 1]!.requestId, `r${100 + 50}`, 'the oldest dropped');
  });

  it('ignores deltas of an agent it does not show', () => {
    const s = new Store();
    s.applySnapshot('a', snapshot(endpoints(2)));
    s.applyDelta('b', { time: T0 + 1000, endpoints: [endpoint(9)] });
    assert.equal(s.endpoints.size, 2);
  });

  it('keeps one series point per second, bounded to ten minutes', () => {
    const s = new Store();
    s.applySnapshot('a', snapshot(endpoints(1)));
    s.applyDelta('a', { time: T0 + 250, system: system(T0 + 250, { requestsPerSecond: 7 }) });
    assert.equal(s.series.size, 1, 'same second replaces');
    assert.equal(s.series.last()!.rps, 7);
    for (let i = 1; i <= LIMITS.seriesPoints + 20; i++) s.applyDelta('a', { time: T0 + i * 1000, system: system(T0 + i * 1000) });
    assert.equal(s.series.size, LIMITS.seriesPoints);
  });

  it('bounds per-endpoint timelines and cache events', () => {
    const s = new Store();
    s.applySnapshot('a', snapshot([]));
    for (let i = 0; i < LIMITS.endpointTimelines + 50; i++) s.applyDelta('a', { time: T0 + i, endpoints: [endpoint(i)] });
    assert.equal(s.endpointSeries.size, LIMITS.endpointTimelines);
    s.applyDelta('a', { time: T0 + 1, cacheEvents: Array.from({ length: CACHE_EVENTS_KEPT * 2 }, (_, i) => ({ kind: 'hit' as const, time: T0 + i })) });
    assert.equal(s.cacheEvents.length, CACHE_EVENTS_KEPT);
    assert.equal(s.cacheEvents[0]!.time, T0 + CACHE_EVENTS_KEPT, 'the oldest dropped');
  });

  it('keeps restored series for the same agent and clears them for another', () => {
    const a = new Store();
    a.applySnapshot('a', snapshot([]));
    for (let i = 1; i <= 5; i++) a.applyDelta('a', { time: T0 + i * 1000, system: system(T0 + i * 1000) });
    const saved = JSON.parse(JSON.stringify(a.persisted()));
    const same = new Store();
    same.restore(readPersisted(saved)!);
    same.applySnapshot('a', snapshot([], { time: T0 + 6000 }));
    assert.equal(same.series.size, 7);
    const other = new Store();
    other.restore(readPersisted(saved)!);
    other.applySnapshot('b', snapshot([], { time: T0 + 6000 }));
    assert.equal(other.series.size, 1);
  });

  it('reads a malformed persisted state as defaults, never throwing', () => {
    assert.equal(readPersisted(null), null);
    assert.equal(readPersisted({ v: 2, ui: {} }), null);
    const p = readPersisted({ v: 1, ui: { tab: 'evil', sort: { key: '__proto__', dir: 'x' }, filter: 42, window: '1h', selectedEndpoint: {} }, series: 'no', namespaces: null });
    assert.deepEqual(p?.ui, { tab: 'overview', sort: { key: 'p95', dir: 'desc' }, filter: '', window: '1m', selectedEndpoint: null, historyRange: '24h', historyEndpoint: null });
    assert.deepEqual([p?.series, p?.namespaces], [[], []]);
  });
});

describe('webview Commands', () => {
  function setup(timeoutMs = 1000) {
    const posted: WebviewToHost[] = [];
    const api: VsCodeApi = { postMessage: (m) => void posted.push(m), getState: () => undefined, setState: () => undefined };
    // The status line only needs these three members of an element.
    const el = { className: '', textContent: '', setAttribute: () => undefined } as unknown as HTMLElement;
    const commands = new Commands(api, new StatusLine(el), timeoutMs);
    return { posted, el, commands };
  }

  it('matches a reply by id, shows the described result and forgets the id', async () => {
    const { posted, el, commands } = setup();
    const p = commands.send('cache.invalidate', { pattern: 'a:*' }, (r) => `Removed ${r.removed} keys`);
    assert.equal(commands.pendingCount, 1);
    const id = (posted[0] as { id: number }).id;
    commands.handleReply({ type: 'reply', id, ok: true, result: { removed: 12, dryRun: false } });
    const r = await p;
    assert.equal(r.ok, true);
    assert.equal(el.textContent, 'Removed 12 keys');
    assert.equal(commands.pendingCount, 0);
    commands.handleReply({ type: 'reply', id, ok: false, error: { code: 'ERR_INTERNAL', message: 'late' } });
    assert.equal(el.textContent, 'Removed 12 keys', 'a second reply to the same id is ignored');
  });

  it('times out: the entry is deleted and ERR_TIMEOUT shown', async () => {
    const { el, commands } = setup(30);
    const r = await commands.send('cache.warm', { name: 'x' });
    assert.deepEqual(r, { ok: false, error: { code: 'ERR_TIMEOUT', message: 'cache.warm: no answer after 0 s' } });
    assert.equal(commands.pendingCount, 0);
    assert.equal(el.className, 'status error');
  });
});
