import assert from 'node:assert/strict';
import { LatencyAccumulator, binKey } from '../../../agent/metrics/summary';
import { compareFiles } from '../../../cli/perf/compare-files';
import { type BaselineReport, comparisonMarkdown } from '../../../cli/perf/report';
import { parseScenario, planRoutes } from '../../../cli/perf/scenario';
import { aaNoise, mannWhitneyGreater, median, medianInterval, quantileRankBounds, rateInterval, ratioChange, roundsChange, verdictOf } from '../../../cli/perf/stats';
import type { Snapshot } from '../../../protocol';
import { endpoint } from '../extension/helpers';
import { seededRandom } from '../../support/random';

function sketchOf(values: number[]): string {
  const a = new LatencyAccumulator();
  for (const v of values) a.add(v, binKey(v), 0);
  return a.encodedSketch();
}

describe('perf statistics (cli/perf/stats.ts)', () => {
  it('verdictOf: regressed only when the whole interval is beyond the threshold', () => {
    assert.equal(verdictOf({ delta: 0.3, lo: 0.15, hi: 0.45 }, 0.1), 'regressed');
    assert.equal(verdictOf({ delta: 0.3, lo: 0.05, hi: 0.45 }, 0.1), 'inconclusive');
    assert.equal(verdictOf({ delta: -0.3, lo: -0.45, hi: -0.15 }, 0.1), 'improved');
    assert.equal(verdictOf({ delta: 0.01, lo: -0.05, hi: 0.08 }, 0.1), 'unchanged');
    assert.equal(verdictOf({ delta: NaN, lo: NaN, hi: NaN }, 0.1), 'inconclusive');
  });

  it('verdictOf: for throughput a fall is the regression', () => {
    assert.equal(verdictOf({ delta: -0.3, lo: -0.4, hi: -0.2 }, 0.1, 0, true), 'regressed');
    assert.equal(verdictOf({ delta: 0.3, lo: 0.2, hi: 0.4 }, 0.1, 0, true), 'improved');
  });

  it('verdictOf: a change no larger than the noise is not a regression', () => {
    assert.equal(verdictOf({ delta: 0.3, lo: 0.15, hi: 0.45 }, 0.1, 0.4), 'inconclusive');
  });

  it('quantileRankBounds widen with fewer samples and stay inside the sample', () => {
    const few = quantileRankBounds(20, 0.95);
    const many = quantileRankBounds(20_000, 0.95);
    assert.ok(few.hi === 19 && few.lo >= 0 && few.lo < 0.95 * 19);
    assert.ok((many.hi - many.lo) / 20_000 < (few.hi - few.lo) / 20);
  });

  it('ratioChange takes the extremes of both intervals', () => {
    const c = ratioChange({ value: 10, lo: 9, hi: 11 }, { value: 12, lo: 11, hi: 13 });
    assert.ok(Math.abs(c.delta - 0.2) < 1e-9);
    assert.ok(Math.abs(c.lo - (11 / 11 - 1)) < 1e-9);
    assert.ok(Math.abs(c.hi - (13 / 9 - 1)) < 1e-9);
  });

  it('rateInterval: a Poisson interval around count / seconds', () => {
    const r = rateInterval(400, 2);
    assert.equal(r.value, 200);
    assert.ok(r.lo < 200 && r.lo > 180 && r.hi > 200 && r.hi < 220);
  });

  it('median and its distribution-free interval', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 2, 3]), 2.5);
    const five = medianInterval([5, 1, 4, 2, 3]);
    assert.deepEqual([five.lo, five.hi], [1, 5]);
    assert.ok(Math.abs(five.coverage - (1 - 2 / 32)) < 1e-9);
    const many = medianInterval(Array.from({ length: 20 }, (_, i) => i));
    assert.ok(many.lo > 0 && many.hi < 19 && many.coverage >= 0.9);
  });

  it('mannWhitneyGreater: exact one-sided p of small samples', () => {
    assert.ok(Math.abs(mannWhitneyGreater([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]) - 1 / 252) < 1e-12);
    assert.ok(Math.abs(mannWhitneyGreater([3, 4, 5], [1, 2, 6]) - 0.35) < 1e-12);
    assert.equal(mannWhitneyGreater([], [1]), 1);
  });

  it('aaNoise: the spread of the A/A ratios or their distance from 1, whichever is larger', () => {
    assert.ok(Math.abs(aaNoise([0.9, 1.2]) - 0.3) < 1e-9);
    assert.ok(Math.abs(aaNoise([1.3, 1.35]) - 0.35) < 1e-9);
    assert.equal(aaNoise([]), 0);
  });

  it('roundsChange: a change that stands apart from the A/A ratios is regressed', () => {
    const r = roundsChange([1.8, 1.9, 2.1, 1.7, 2.0], [0.95, 1.05, 1.0, 1.1, 0.9], 0.1);
    assert.equal(r.verdict, 'regressed');
    assert.ok(r.delta > 0.8 && r.p < 0.01);
  });

  it('roundsChange: inconclusive when the A/A spread is as wide as the effect', () => {
    const r = roundsChange([1.3, 1.4, 1.5, 1.35, 1.45], [0.7, 1.5, 1.4, 0.8, 1.6], 0.1);
    assert.equal(r.verdict, 'inconclusive');
  });

  it('roundsChange: A/A-like ratios around 1 are unchanged, and never regressed or improved', () => {
    const next = seededRandom(7);
    for (let trial = 0; trial < 50; trial++) {
      const noisy = () => Array.from({ length: 5 }, () => 1 + (next() - 0.5) * 0.1);
      const v = roundsChange(noisy(), noisy(), 0.1).verdict;
      assert.ok(v === 'unchanged' || v === 'inconclusive', v);
    }
    assert.equal(roundsChange([1.02, 0.98, 1.0, 1.01, 0.99], [1.0, 1.01, 0.99, 1.02, 0.98], 0.1).verdict, 'unchanged');
  });

  it('roundsChange: three rounds cannot reach the level a verdict needs', () => {
    assert.notEqual(roundsChange([2, 2.1, 2.2], [1, 1, 1], 0.1).verdict, 'regressed');
  });

  it('roundsChange: throughput that falls is regressed', () => {
    assert.equal(roundsChange([0.5, 0.55, 0.6, 0.52, 0.58], [1, 1.02, 0.98, 1.01, 0.99], 0.1, true).verdict, 'regressed');
  });
});

describe('compare of two baseline files', () => {
  const next = seededRandom(3);
  const sample = (n: number, scale: number) => Array.from({ length: n }, () => scale * (1 + next()));
  const file = (routes: Array<[string, number]>, settings: BaselineReport['settings'] = { seconds: 10, rate: 100, peakSeconds: 2, warmupSeconds: 1, pacing: 'open-loop' }): BaselineReport => ({
    version: 1,
    app: 'x',
    createdAt: '',
    node: 'v20',
    settings,
    skipped: [],
    routes: routes.map(([id, scale]) => ({ id, method: 'GET', count: 2000, errors: 0, p50: 0, p95: 0, p99: 0, rps: 500, sketch: sketchOf(sample(2000, scale)) })),
  });

  it('flags the route that got slower, not the others; lists routes on one side only', () => {
    const c = compareFiles(file([['GET /a', 10], ['GET /b', 10], ['GET /gone', 5]]), file([['GET /a', 10], ['GET /b', 15], ['GET /new', 5]]), 0.1);
    const v = Object.fromEntries(c.routes.map((r) => [r.id, r.verdict]));
    assert.equal(v['GET /b'], 'regressed');
    assert.notEqual(v['GET /a'], 'regressed');
    assert.deepEqual(c.onlyBase, ['GET /gone']);
    assert.deepEqual(c.onlyHead, ['GET /new']);
    assert.equal(c.warnings, undefined);
  });

  it('two files measured under different load (rate, phase, or an earlier version\'s burst pacing) carry a warning naming both loads', () => {
    const routes: Array<[string, number]> = [['GET /a', 10]];
    const bursts = { seconds: 10, rate: 100, peakSeconds: 2, warmupSeconds: 1 };
    const older = compareFiles(file(routes, bursts), file(routes), 0.1);
    assert.deepEqual(older.warnings, [
      "the two files were measured under different load (base: 100 req/s for 10 s, paced in bursts by an earlier routelens; head: 100 req/s for 10 s), so a change below may be the load's, not the code's: measure both with the same settings and this version.",
    ]);
    assert.match(comparisonMarkdown(older), /\*\*Warning:\*\* the two files were measured under different load/);
    const faster = compareFiles(file(routes), file(routes, { seconds: 10, rate: 200, peakSeconds: 2, warmupSeconds: 1, pacing: 'open-loop' }), 0.1);
    assert.match(faster.warnings?.[0] ?? '', /base: 100 req\/s for 10 s; head: 200 req\/s for 10 s/);
    assert.equal(compareFiles(file(routes, bursts), file(routes, bursts), 0.1).warnings, undefined, 'two files of one version and load compare as they are');
  });
});

describe('scenario files', () => {
  const snap = {
    endpoints: [
      endpoint({ id: 'GET /users/:id', method: 'GET', route: '/users/:id' }),
      endpoint({ id: 'GET /health', method: 'GET', route: '/health' }),
      endpoint({ id: 'POST /orders', method: 'POST', route: '/orders' }),
      endpoint({ id: 'GET (unmatched)', method: 'GET', route: '(unmatched)', kind: 'unmatched' }),
    ],
    slowRequests: [],
  } as unknown as Snapshot;

  it('an unknown key is an error naming it', () => {
    assert.throws(() => parseScenario({ routes: { 'GET /users/:id': { path: ['/users/1'] } } }, 's.json'), /routes\["GET \/users\/:id"\]: unknown key "path"/);
    assert.throws(() => parseScenario({ route: {} }, 's.json'), /unknown key "route"/);
    assert.throws(() => parseScenario({ routes: { 'GET /x': { paths: ['x'] } } }, 's.json'), /paths\[0\] must be a path/);
  });

  it('a route id the app does not have is an error listing the known routes', () => {
    const sc = parseScenario({ routes: { 'GET /user/:id': { paths: ['/user/1'] } } });
    assert.throws(() => planRoutes(snap, sc, 's.json'), (err: Error) => /no route "GET \/user\/:id"/.test(err.message) && err.message.includes('GET /users/:id') && err.message.includes('POST /orders'));
  });

  it('drives reads without parameters, skips parameters without values and writes not declared', () => {
    const plan = planRoutes(snap, undefined);
    assert.deepEqual(plan.targets.map((t) => [t.id, t.paths]), [['GET /health', ['/health']]]);
    assert.deepEqual(plan.skipped.map((s) => s.id), ['GET /users/:id', 'POST /orders']);
  });

  it('declared paths, headers and a JSON body are used as given', () => {
    const sc = parseScenario({ routes: { 'POST /orders': { paths: ['/orders'], body: { item: 1 }, headers: { 'x-test': 'y' } }, 'GET /users/:id': { paths: ['/users/1'] } } });
    const plan = planRoutes(snap, sc);
    const post = plan.targets.find((t) => t.id === 'POST /orders')!;
    assert.equal(post.body, '{"item":1}');
    assert.deepEqual(post.headers, { 'content-type': 'application/json', 'x-test': 'y' });
    assert.deepEqual(plan.skipped, []);
  });
});
