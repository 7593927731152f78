import assert from 'node:assert/strict';
import { RANGE_SPECS, historyArgs, historySeries, markerLabel, readHistory, tickStep, timeLabel } from '../../webview/historyData';

const T = Date.UTC(2026, 11, 6, 12, 0, 0);
const MIN = 60_000;

describe('webview history data', () => {
  it('each range asks for its span at the resolution that follows it', () => {
    assert.deepEqual(historyArgs('GET /a', '6h', T), { endpoint: 'GET /a', from: T - 6 * 60 * MIN, to: T, resolution: 'minute' });
    assert.deepEqual(Object.values(RANGE_SPECS).map((r) => r.resolution), ['minute', 'hour', 'hour', 'day']);
    assert.equal(historyArgs('GET /a', '30d', T).from, T - 30 * 24 * 60 * MIN);
  });

  it('reads an answer defensively: malformed points and markers are dropped, the rest sorted', () => {
    assert.equal(readHistory(null), null);
    assert.equal(readHistory({ points: 'x', from: 0, to: 1 }), null);
    const a = readHistory({
      endpoint: 'GET /a',
      resolution: 'bogus',
      from: T - 10 * MIN,
      to: T,
      points: [{ t: T - MIN, count: 3, errors: 1, p95: 40 }, { t: 'x', count: 1 }, { t: T - 2 * MIN, count: -1 }, null, { t: T - 3 * MIN, count: 2, p50: NaN, git: { commit: 'abc', branch: 5 } }],
      commits: [{ t: T - MIN, commit: 'def', branch: 'main', dirty: true }, { t: T, commit: 7 }, { commit: 'x' }],
    });
    assert.ok(a);
    assert.equal(a.resolution, 'minute');
    assert.deepEqual(a.points.map((p) => p.t), [T - 3 * MIN, T - MIN]);
    assert.deepEqual(a.points[0], { t: T - 3 * MIN, count: 2, errors: 0, p50: undefined, p95: undefined, p99: undefined, git: { commit: 'abc', branch: '', dirty: false } });
    assert.deepEqual(a.commits, [{ t: T - MIN, commit: 'def', branch: 'main', dirty: true }]);
  });

  it('series break where nothing was recorded (a restart), and rates are per second of each point', () => {
    const s = historySeries({
      endpoint: 'GET /a',
      resolution: 'minute',
      from: T - 10 * MIN,
      to: T,
      points: [
        { t: T - 10 * MIN, count: 60, errors: 0, p50: 5, p95: 9, p99: 12 },
        { t: T - 9 * MIN, count: 120, errors: 2, p50: 6, p95: 10, p99: 14 },
        { t: T - 5 * MIN, count: 30, errors: 1 },
      ],
      commits: [],
    });
    assert.deepEqual(s.p95, [{ x: T - 10 * MIN, y: 9 }, { x: T - 9 * MIN, y: 10 }, { x: T - 8 * MIN, y: null }, { x: T - 5 * MIN, y: null }]);
    assert.deepEqual(s.rate.map((p) => p.y), [1, 2, null, 0.5]);
    assert.deepEqual(s.errors.map((p) => p.y), [0, 2, null, 1]);
  });

  it('labels a commit marker with the short commit and branch, and marks a dirty tree; axis labels follow the span', () => {
    assert.equal(markerLabel({ commit: '0123456789abcdef', branch: 'main', dirty: false }), '0123456 main');
    assert.equal(markerLabel({ commit: '0123456789abcdef', branch: 'feature/x', dirty: true }), '0123456 feature/x (dirty)');
    assert.equal(markerLabel({ commit: 'abc', branch: '', dirty: false }), 'abc');
    const local = new Date(2026, 11, 6, 9, 5).getTime();
    assert.equal(timeLabel(local, 6 * 60 * MIN), '09:05');
    assert.equal(timeLabel(local, 7 * 24 * 60 * MIN), '12-06 09:05');
    assert.equal(timeLabel(local, 30 * 24 * 60 * MIN), '12-06');
    assert.deepEqual(Object.values(RANGE_SPECS).map((r) => tickStep(r.ms) / (60 * MIN)), [1, 4, 24, 120]);
  });
});
