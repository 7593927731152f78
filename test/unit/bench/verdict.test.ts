import assert from 'node:assert/strict';
import { aaSpread, judge, judgeRounds } from '../../../bench/lib/verdict';

describe('bench verdicts beside the A/A spread', () => {
  it('the spread is the larger of the A/A median’s distance from 1 and half its interquartile range', () => {
    assert.ok(Math.abs(aaSpread([0.98, 0.99, 1.0, 1.01, 1.02]) - 0.01) < 1e-9);
    assert.ok(Math.abs(aaSpread([1.05, 1.05, 1.05]) - 0.05) < 1e-9);
    assert.ok(Number.isNaN(aaSpread([])));
  });

  it('met or not met only when the figure is farther from its target than the spread', () => {
    assert.equal(judge(1.0, 1.03, 'at most', 0.02).verdict, 'met');
    assert.equal(judge(1.1, 1.03, 'at most', 0.02).verdict, 'not met');
    assert.equal(judge(0.99, 0.95, 'at least', 0.01).verdict, 'met');
    assert.equal(judge(0.9, 0.95, 'at least', 0.01).verdict, 'not met');
  });

  it('a spread that cannot resolve the target gives "unresolved" with the spread, never met', () => {
    assert.deepEqual(judge(1.0, 1.03, 'at most', 0.05), { verdict: 'unresolved', text: 'unresolved (A/A spread ±5.0 % wider than the effect, 3.0 % from the target)' });
    assert.equal(judge(1.0, 1.03, 'at most', Number.NaN).text, 'unresolved (no A/A line in this run)');
  });

  it('a figure read per round against a bound: met or not met only when every round of several agrees, else unresolved with their range', () => {
    const show = (v: number) => `${v} MB`;
    assert.equal(judgeRounds([4.2, 4.9, 5], 5, show).verdict, 'met');
    assert.equal(judgeRounds([5.1, 5.8], 5, show).verdict, 'not met');
    assert.deepEqual(judgeRounds([4.9, 5.3, 5.1], 5, show), { verdict: 'unresolved', text: 'unresolved (its 3 rounds read 4.9 MB–5.3 MB, on both sides of the target)' });
    assert.equal(judgeRounds([], 5, show).text, 'unresolved (no figure)');
    assert.deepEqual(judgeRounds([4.2], 5, show), { verdict: 'unresolved', text: 'unresolved (one round, 4.2 MB: its spread is unknown)' });
    assert.equal(judgeRounds([5.8], 5, show).verdict, 'unresolved');
  });
});
