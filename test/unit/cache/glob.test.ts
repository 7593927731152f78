import assert from 'node:assert/strict';
import { compileGlob, escapeGlob, validatePattern } from '../../../agent/cache/glob';
import { RouteLensError } from '../../../agent/errors';

function rejected(p: unknown): boolean {
  try {
    validatePattern(p);
    return false;
  } catch (err) {
    assert.ok(err instanceof RouteLensError);
    assert.equal(err.code, 'ROUTELENS_ERR_PATTERN_REJECTED');
    return true;
  }
}

describe('cache glob: validatePattern', () => {
  it('accepts ordinary patterns', () => {
    for (const p of ['users:*', 'users:?', '*', 'a\\*b', 'users:1', 'x*y*z', 'a\\[b\\]']) assert.equal(rejected(p), false, p);
  });
  it('refuses pathological globs', () => {
    const cases = [
      '',
      'a'.repeat(257),
      '*a*a*a*a*a*a*a*a*a', // 9 wildcards
      '?????????',
      'users:[a-z]*',
      '[',
      ']',
      '*[a-*', // the CVE-2022-36021 shape
      'abc\\',
      'a\nb',
      'a\u0000b',
      42,
    ];
    for (const p of cases) assert.equal(rejected(p), true, JSON.stringify(p));
  });
});

describe('cache glob: compileGlob', () => {
  const cases: Array<[string, string, boolean]> = [
    ['users:*', 'users:1', true],
    ['users:*', 'users:', true],
    ['users:*', 'user:1', false],
    ['*', '', true],
    ['*', 'anything', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['*ab', 'aab', true],
    ['ab*', 'a', false],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['*b*b*', 'bb', true],
    ['*b*b*', 'b', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'aXb', false],
    ['x**y', 'xy', true],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['?', '', false],
  ];
  for (const [p, k, want] of cases) {
    it(`${p} ${want ? 'matches' : 'does not match'} ${JSON.stringify(k)}`, () => assert.equal(compileGlob(p)(k), want));
  }
  it('agrees with a reference regex on random inputs', () => {
    const alphabet = 'ab*?';
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 3000; i++) {
      const p = Array.from({ length: 1 + rnd(6) }, () => alphabet[rnd(4)]).join('');
      const k = Array.from({ length: rnd(8) }, () => 'ab'[rnd(2)]).join('');
      const re = new RegExp(`^${p.replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
      assert.equal(compileGlob(p)(k), re.test(k), `${p} vs ${k}`);
    }
  });
  it('stays linear on an adversarial key (no backtracking blow-up)', () => {
    const p = '*a*a*a*a*a*a*a*b';
    validatePattern(p);
    const m = compileGlob(p);
    const key = 'a'.repeat(100_000);
    const t = performance.now();
    assert.equal(m(key), false);
    assert.ok(performance.now() - t < 2000);
  });
  it('escapeGlob makes a literal', () => {
    const lit = 'we*ird?[x]\\';
    assert.equal(compileGlob(escapeGlob(lit))(lit), true);
    assert.equal(compileGlob(escapeGlob(lit))('weXirdY[x]\\'), false);
  });
});
