import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { AGENT_ERROR_CODES, AGENT_WARNING_CODES, RouteLensError, invalidOption, nearest } from '../../agent/errors';
import { EXTENSION_ERROR_CODES } from '../../extension/core/errors';

const root = join(__dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

function files(dir: string, ext: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** Every distinct match of `pattern` in the given files. */
function codesIn(paths: string[], pattern: RegExp): Set<string> {
  const found = new Set<string>();
  for (const p of paths) for (const m of read(p).matchAll(pattern)) found.add(m[0]);
  return found;
}

const docs = ['README.md', ...files('docs', '.md')];

describe('agent error and warning codes', () => {
  const families: Array<[string, Record<string, unknown>, RegExp]> = [
    ['error', AGENT_ERROR_CODES, /\bROUTELENS_ERR_[A-Z0-9_]+/g],
    ['warning', AGENT_WARNING_CODES, /\bROUTELENS_WARN_[A-Z0-9_]+/g],
  ];
  for (const [family, table, pattern] of families) {
    it(`documents every ${family} code in the README's table`, () => {
      const readme = read('README.md');
      for (const code of Object.keys(table)) assert.match(readme, new RegExp(`^\\| \`${code}\` \\|`, 'm'), `${code} has no row in README.md`);
    });

    it(`every ${family} code the docs mention exists`, () => {
      const unknown = [...codesIn(docs, pattern)].filter((c) => !(c in table));
      assert.deepEqual(unknown, [], 'documented but not defined in agent/errors.ts');
    });

    it(`every ${family} code is used by the agent`, () => {
      const used = codesIn(files('agent', '.ts').filter((p) => p !== join('agent', 'errors.ts')), pattern);
      const unused = Object.keys(table).filter((c) => !used.has(c));
      assert.deepEqual(unused, [], 'defined and documented but never thrown or written');
    });
  }

  it('the agent writes no warning outside the ROUTELENS_WARN_ family', () => {
    const stray: string[] = [];
    for (const p of files('agent', '.ts')) {
      for (const m of read(p).matchAll(/warnOnce\(\s*(['"`])([^'"`]*)\1/g)) if (!m[2]!.startsWith('ROUTELENS_WARN_')) stray.push(`${p}: ${m[2]}`);
    }
    assert.deepEqual(stray, []);
  });

  it('invalidOption names the option, what it expects and what it got, and truncates long values', () => {
    const err = invalidOption('prefix', 'a string', 'x'.repeat(500));
    assert.ok(err instanceof RouteLensError);
    assert.equal(err.code, 'ROUTELENS_ERR_INVALID_OPTION');
    assert.match(err.message, /^option "prefix" must be a string, got "x{39}…"$/);
  });

  it('nearest finds slips (case, a missing suffix, one or two letters) and nothing for unrelated names', () => {
    const names = ['port', 'host', 'token', 'thresholds', 'logger', 'maxEndpoints', 'p95Ms', 'errorRate'];
    assert.equal(nearest('prot', names), 'port');
    assert.equal(nearest('PORT', names), 'port');
    assert.equal(nearest('p95', names), 'p95Ms');
    assert.equal(nearest('treshold', names), 'thresholds');
    assert.equal(nearest('maxEndpoint', names), 'maxEndpoints');
    assert.equal(nearest('database', names), undefined);
  });
});

describe('extension error codes', () => {
  it('documents every RL_ERR_* code in docs/extension.md, and documents none that does not exist', () => {
    const documented = codesIn(['docs/extension.md'], /\bRL_ERR_[A-Z0-9_]+/g);
    assert.deepEqual([...documented].sort(), Object.keys(EXTENSION_ERROR_CODES).sort());
  });

  it('every RL_ERR_* code is raised somewhere in the extension', () => {
    const used = codesIn(files('extension', '.ts').filter((p) => p !== join('extension', 'core', 'errors.ts')), /\bRL_ERR_[A-Z0-9_]+/g);
    assert.deepEqual(Object.keys(EXTENSION_ERROR_CODES).filter((c) => !used.has(c)), []);
  });
});
