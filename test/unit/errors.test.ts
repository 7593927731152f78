import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_ERROR_CODES, RouteLensError, invalidOption } from '../../agent/errors';

describe('agent errors', () => {
  it('documents every RouteLensError code in the README', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    for (const code of Object.keys(AGENT_ERROR_CODES)) assert.ok(readme.includes(`\`${code}\``), `${code} missing from README.md`);
  });

  it('invalidOption names the option, what it expects and what it got, and truncates long values', () => {
    const err = invalidOption('prefix', 'a string', 'x'.repeat(500));
    assert.ok(err instanceof RouteLensError);
    assert.equal(err.code, 'ROUTELENS_ERR_INVALID_OPTION');
    assert.match(err.message, /^option "prefix" must be a string, got "x{40}…"$/);
  });
});
