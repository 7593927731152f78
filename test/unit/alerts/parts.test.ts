/** The alert engine's parts on their own: levels, the rules' baselines, tracks, health, thresholds, message formats. */
import assert from 'node:assert/strict';
import { mib, ms, pct, round3, short } from '../../../agent/alerts/format';
import { resolvePolicies } from '../../../agent/alerts/policy';
import { LatencyBaselines, Level, Rules, higherIsWorse, lowerIsWorse } from '../../../agent/alerts/rules';
import { DEFAULT_THRESHOLDS, mergeThresholds } from '../../../agent/alerts/thresholds';
import { Track, healthOf, sameHealth } from '../../../agent/alerts/track';
import type { Alert, SystemStats } from '../../../protocol';

const ruleOptions = {
  clearMargin: 0.1,
  policies: resolvePolicies({ 'route-p95': { minSamples: 5 }, 'latency-anomaly': { minSamples: 5 }, 'error-rate': { minSamples: 20 } }),
  baselineWarmup: 3,
  anomalyFloorMs: 50,
};

function firingTrack(severity: Alert['severity'], message: string): Track {
  const track = new Track('route-p95', message);
  track.alert = { id: message, rule: 'route-p95', target: message, severity, state: 'firing', message, value: 1, threshold: 1, firedAt: 0 };
  return track;
}

describe('alerts parts', () => {
  it('higherIsWorse(): critical, over, between within the margin below the threshold, clear under it', () => {
    const level = (v: number) => higherIsWorse(v, 100, 200, 0.1);
    assert.deepEqual([level(200), level(199), level(100), level(99), level(90), level(89.9)], [Level.Critical, Level.Over, Level.Over, Level.Between, Level.Between, Level.Clear]);
  });

  it('lowerIsWorse(): the margin is a share of the way from the threshold to 1', () => {
    const level = (v: number) => lowerIsWorse(v, 0.7, 0.35, 0.1);
    assert.deepEqual([level(0.34), level(0.35), level(0.69), level(0.7), level(0.72), level(0.73)], [Level.Critical, Level.Over, Level.Over, Level.Between, Level.Between, Level.Clear]);
  });

  it('LatencyBaselines.check(): nothing while warming up, then the p95 against factor × baseline; forget() starts over', () => {
    const baselines = new LatencyBaselines(ruleOptions);
    assert.deepEqual([baselines.check('GET /a', 100, 3, undefined), baselines.check('GET /a', 100, 3, undefined), baselines.check('GET /a', 100, 3, undefined)], [undefined, undefined, undefined]);
    const anomaly = baselines.check('GET /a', 400, 3, undefined);
    assert.equal(anomaly?.level, Level.Over);
    assert.equal(anomaly?.threshold, 300);
    assert.equal(anomaly?.message(), 'GET /a p95 400 ms is 4.0× its usual 100 ms');
    baselines.forget('GET /a');
    assert.equal(baselines.check('GET /a', 400, 3, undefined), undefined, 'a forgotten baseline warms up again');
  });

  it('Rules.checks(): no check below the sample minimums; an overflow endpoint counts process-wide only', () => {
    const rules = new Rules(ruleOptions);
    const lastMinute = (count: number, errors: number) => ({ '1m': { count, errors, p95: 10, avg: 10 } });
    const system = { heapUsed: 0, heapLimit: 0, eventLoop: { delayP99: 1 } } as SystemStats;
    const checks = rules.checks(
      {
        endpoints: [
          { id: 'GET /few', kind: 'route', windows: lastMinute(4, 4) },
          { id: '(overflow)', kind: 'overflow', windows: lastMinute(30, 30) },
        ],
        system,
        rateLimits: [],
      },
      DEFAULT_THRESHOLDS,
    );
    assert.deepEqual(
      checks.map((c) => [c.rule, c.target, c.value]),
      [
        ['error-rate', 'process', 1],
        ['event-loop-delay', 'process', 1],
      ],
    );
  });

  it('Track.count(): consecutive runs reset by any other level; idle once nothing is left to remember', () => {
    const track = new Track('heap', 'process');
    track.count(Level.Critical);
    track.count(Level.Critical);
    assert.deepEqual([track.over, track.critical, track.clear, track.idle], [2, 2, 0, false]);
    track.count(Level.Over);
    assert.deepEqual([track.over, track.critical, track.clear], [3, 0, 0]);
    track.count(Level.Between);
    assert.deepEqual([track.over, track.critical, track.clear, track.idle], [0, 0, 0, true]);
    track.suppressed = true;
    assert.equal(track.idle, false);
  });

  it('healthOf(): penalties by severity, pending conditions cost 5, reasons heaviest first and capped at 10', () => {
    const pending = new Track('heap', 'process');
    pending.pending = { rule: 'heap', target: 'process', level: Level.Over, value: 1, threshold: 1, message: () => 'heap high' };
    const health = healthOf([firingTrack('warning', 'w'), pending, firingTrack('critical', 'c')]);
    assert.deepEqual(health, { score: 60, status: 'degraded', reasons: ['c', 'w', 'heap high (not yet confirmed)'] });
    const many = healthOf(Array.from({ length: 12 }, (_, i) => firingTrack('critical', `c${i}`)));
    assert.equal(many.score, 0);
    assert.equal(many.status, 'unhealthy');
    assert.equal(many.reasons.length, 11);
    assert.equal(many.reasons[10], 'and 2 more');
    assert.equal(sameHealth(health, { ...health, reasons: [...health.reasons] }), true);
    assert.equal(sameHealth(health, { ...health, reasons: health.reasons.slice(1) }), false);
  });

  it('mergeThresholds(): defined numbers only, slowMs field by field, unknown fields ignored', () => {
    const merged = mergeThresholds(DEFAULT_THRESHOLDS, { p95Ms: 500, errorRate: undefined, slowMs: { warning: 3000 }, bogus: 1 } as never);
    assert.equal(merged.p95Ms, 500);
    assert.equal(merged.errorRate, DEFAULT_THRESHOLDS.errorRate);
    assert.deepEqual(merged.slowMs, { info: 1000, warning: 3000, critical: 10000 });
    assert.equal('bogus' in merged, false);
    assert.equal(DEFAULT_THRESHOLDS.p95Ms, 2000, 'the base is not changed');
  });

  it('message formats: ms, s, percentages, MiB, three decimals, long targets cut', () => {
    assert.deepEqual([ms(2400), ms(2000), ms(850.4), ms(2.25)], ['2.4 s', '2 s', '850 ms', '2.3 ms']);
    assert.deepEqual([pct(0.05), pct(0.055), pct(0.123)], ['5%', '5.5%', '12%']);
    assert.equal(mib(3 * 1048576), '3 MiB');
    assert.equal(round3(1.23456), 1.235);
    assert.equal(short('x'.repeat(300)).length, 200);
    assert.equal(short('GET /a'), 'GET /a');
  });
});
