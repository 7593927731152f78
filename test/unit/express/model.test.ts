import assert from 'node:assert/strict';
import { sharedLocation } from '../../../agent/express/model';

describe('sharedLocation (route locations from one call site)', () => {
  const at = (line: number, column = 5, file = '/app/routes.js') => ({ file, line, column });

  it('gives routes registered from one call site one location object, and a location of its own to each other site', () => {
    const first = sharedLocation(at(10));
    // A loop: every registration captures an equal location, as a new object.
    for (let i = 0; i < 5; i++) assert.equal(sharedLocation(at(10)), first);
    const other = at(10, 6);
    assert.equal(sharedLocation(other), other);
    assert.equal(sharedLocation(at(10, 5, '/app/other.js')).file, '/app/other.js');
    assert.equal(sharedLocation(undefined), undefined);
    assert.equal(sharedLocation(null), null);
  });

  it('remembers only the last few distinct locations: an old one is not looked for', () => {
    const old = sharedLocation(at(100));
    for (let line = 101; line < 110; line++) sharedLocation(at(line));
    const again = at(100);
    assert.deepEqual(again, old);
    assert.equal(sharedLocation(again), again);
  });
});
