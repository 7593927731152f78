import assert from 'node:assert/strict';
import { MISSING, PERCENTILE_MIN_COUNT, formatBytes, formatCount, formatMs, formatPercent, formatRate, formatUptime, inWindow, percentileFigure } from '../../protocol/format';

describe('protocol/format: one way to write figures for the extension and the dashboard', () => {
  it('formatMs: two decimals below 1 ms, one below 10 ms, whole ms below 1 s, then seconds', () => {
    assert.deepEqual(
      [0, 0.004, 0.42, 4.25, 9.96, 42.4, 999.4, 1234, 9_949, 12_345, 125_000].map(formatMs),
      ['0 ms', '0 ms', '0.42 ms', '4.3 ms', '10 ms', '42 ms', '999 ms', '1.2 s', '9.9 s', '12 s', '125 s'],
    );
  });

  it('formatCount: one decimal below 10, whole below 1,000, then k, M, G; sign kept', () => {
    assert.deepEqual(
      [0, 4.25, 42.5, 999, 1234, 12_345, 999_499, 2_500_000, 25_000_000, 3.2e9, -1234].map(formatCount),
      ['0', '4.3', '43', '999', '1.2k', '12k', '999k', '2.5M', '25M', '3.2G', '-1.2k'],
    );
  });

  it('formatRate is a plain number per second', () => {
    assert.deepEqual([0, 0.5, 12, 1500].map(formatRate), ['0/s', '0.5/s', '12/s', '1.5k/s']);
  });

  it('formatPercent: a fraction as 0%, <0.1%, one decimal below 10 %, whole above', () => {
    assert.deepEqual([0, 0.0004, 0.004, 0.013, 0.25, 1, 1.5].map(formatPercent), ['0%', '<0.1%', '0.4%', '1.3%', '25%', '100%', '150%']);
  });

  it('formatBytes: whole bytes, then KiB, MiB, GiB with one decimal below 10 of the unit', () => {
    assert.deepEqual([0, 512, 1536, 50 * 1024 * 1024, 120 * 1024 * 1024, 4096 * 1024 * 1024].map(formatBytes), ['0 B', '512 B', '1.5 KiB', '50 MiB', '120 MiB', '4 GiB']);
  });

  it('formatUptime: the largest units down to seconds', () => {
    assert.deepEqual([45, 125, 3725, 3 * 86400 + 4 * 3600 + 30].map(formatUptime), ['45s', '2m 5s', '1h 2m 5s', '3d 4h 0m']);
  });

  it('a missing figure is the same em dash everywhere; negative durations and sizes are missing', () => {
    for (const f of [formatMs, formatCount, formatRate, formatPercent, formatBytes, formatUptime]) {
      assert.equal(f(undefined), MISSING, f.name);
      assert.equal(f(Number.NaN), MISSING, f.name);
      assert.equal(f(Number.POSITIVE_INFINITY), MISSING, f.name);
    }
    assert.equal(MISSING, '\u2014');
    assert.deepEqual([formatMs(-1), formatBytes(-1), formatUptime(-1)], [MISSING, MISSING, MISSING]);
  });

  describe('percentileFigure: a percentile only when its window holds enough requests', () => {
    const w = (count: number) => ({ count, p50: 12, p95: 80, p99: 80 });

    it('p50 from 5 requests, p95 from 20, p99 from 100', () => {
      assert.deepEqual(PERCENTILE_MIN_COUNT, { p50: 5, p95: 20, p99: 100 });
      const shown = (count: number) => (['p50', 'p95', 'p99'] as const).map((p) => percentileFigure(p, w(count)).shown);
      assert.deepEqual([1, 4, 5, 19, 20, 99, 100].map(shown), [
        [false, false, false],
        [false, false, false],
        [true, false, false],
        [true, false, false],
        [true, true, false],
        [true, true, false],
        [true, true, true],
      ]);
    });

    it('a shown percentile is the duration; a hidden one is a dash with the reason, naming the window', () => {
      assert.deepEqual(percentileFigure('p95', w(20), '1m'), { text: '80 ms', shown: true, why: '' });
      assert.deepEqual(percentileFigure('p99', w(12), '1m'), { text: MISSING, shown: false, why: 'p99 needs 100 requests in the last minute; 12 so far' });
      assert.equal(percentileFigure('p95', w(3), 'all').why, 'p95 needs 20 requests since start; 3 so far');
      assert.equal(percentileFigure('p95', w(0), '5m').why, 'p95 needs 20 requests in the last 5 minutes; none so far');
      assert.equal(percentileFigure('p50', w(2)).why, 'p50 needs 5 requests in this window; 2 so far');
      assert.equal(percentileFigure('p95', { count: Number.NaN, p50: 1, p95: 1, p99: 1 }).text, MISSING, 'a missing count is no requests');
      assert.deepEqual(['1m', '5m', 'all', 'this window'].map(inWindow), ['in the last minute', 'in the last 5 minutes', 'since start', 'in this window']);
    });
  });
});
