import assert from 'node:assert/strict';
import type { Thresholds } from '../../protocol/types';
import { MAX_DEPTH, waterfallRows } from '../../webview/waterfall';
import { THRESHOLD_FIELDS, shownFields, validateThresholds } from '../../webview/views/thresholds';
import { n1Trace } from '../support/why-fixtures';

describe('webview waterfall layout', () => {
  it('orders spans as a tree (children after their parent, by start) with bars in % of the request', () => {
    const rows = waterfallRows(n1Trace('/a.js'));
    assert.deepEqual(rows.map((r) => [r.index, r.depth]), [[0, 0], [1, 0], [2, 1], [3, 1], [4, 1], [5, 1], [6, 1], [7, 1], [8, 1], [9, 1]]);
    const handler = rows[1]!;
    assert.equal(handler.leftPct, 5);
    assert.equal(handler.widthPct, 90);
    assert.equal(rows[3]!.leftPct, 20);
    assert.equal(rows[3]!.widthPct, 10);
  });

  it('a span outlasting the request scales to the latest end; bad parents go to the top level; depth is capped', () => {
    const rows = waterfallRows({
      durationMs: 50,
      spans: [
        { kind: 'custom', name: 'a', startMs: 0, durationMs: 100 },
        { kind: 'custom', name: 'self', startMs: 1, durationMs: 1, parent: 1 },
        { kind: 'custom', name: 'later', startMs: 2, durationMs: 1, parent: 5 },
      ],
    });
    assert.equal(rows[0]!.widthPct, 100);
    assert.deepEqual(rows.map((r) => r.depth), [0, 0, 0]);
    const chain = Array.from({ length: 40 }, (_, i) => ({ kind: 'custom' as const, name: String(i), startMs: i, durationMs: 1, ...(i ? { parent: i - 1 } : {}) }));
    assert.equal(Math.max(...waterfallRows({ durationMs: 50, spans: chain }).map((r) => r.depth)), MAX_DEPTH);
  });
});

describe('webview thresholds editor fields', () => {
  const th = { p95Ms: 500, avgMs: 1000, slowPerMinute: 10, errorRate: 0.05, heapPercent: 0.9, eventLoopDelayMs: 200, cacheHitRate: 0.5, rateLimitedShare: 0.2, anomalyFactor: 3, slowMs: { info: 1, warning: 2, critical: 3 } } as Thresholds;

  it('shows the fields the agent carries, newer ones (slowQueryMs, cpuPercent) once it does', () => {
    assert.deepEqual(shownFields(th).map((f) => f.key), ['p95Ms', 'avgMs', 'errorRate', 'slowPerMinute', 'heapPercent', 'eventLoopDelayMs', 'cacheHitRate', 'rateLimitedShare', 'anomalyFactor']);
    const newer = { ...th, slowQueryMs: 1000, cpuPercent: 90 } as Thresholds;
    assert.ok(shownFields(newer).some((f) => f.key === 'slowQueryMs'));
    assert.ok(shownFields(newer).some((f) => f.key === 'cpuPercent'));
    assert.equal(new Set(THRESHOLD_FIELDS.map((f) => f.key)).size, THRESHOLD_FIELDS.length, 'no field twice');
  });

  it('sends only what changed, fractions as the wire has them; refuses out-of-range values', () => {
    const fields = shownFields(th);
    const values = Object.fromEntries(fields.map((f) => [f.key, String(+((th as unknown as Record<string, number>)[f.key]! * f.scale).toFixed(6))]));
    assert.deepEqual(validateThresholds(fields, values, th), { ok: true, patch: {} });
    assert.deepEqual(validateThresholds(fields, { ...values, errorRate: '2.5', avgMs: '750' }, th), { ok: true, patch: { errorRate: 0.025, avgMs: 750 } });
    const bad = validateThresholds(fields, { ...values, errorRate: '150', anomalyFactor: '1', slowPerMinute: 'x' }, th);
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.deepEqual(Object.keys(bad.errors).sort(), ['anomalyFactor', 'errorRate', 'slowPerMinute']);
  });
});
