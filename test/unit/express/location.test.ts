import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { captureSite, functionLocations, isInternalFrame, mapLocation, sameLine, userFrame } from '../../../agent/express/location';

describe('express/location', () => {
  it('userFrame skips node internals, node_modules and RouteLens, keeping the user frame', () => {
    const stack = [
      'Error',
      '    at captureSite (/repo/agent/express/location.ts:40:11)',
      '    at Route.get (/app/node_modules/router/lib/route.js:10:3)',
      '    at Function.get (/app/node_modules/express/lib/application.js:480:5)',
      '    at node:internal/modules/cjs/loader:1:1',
      '    at addRoutes (/app/src/routes.js:12:7)',
      '    at /app/src/index.js:3:1',
    ].join('\n');
    assert.deepEqual(userFrame(stack.replace('/repo/agent/', join(__dirname, '../../../agent/') )), { file: '/app/src/routes.js', line: 12, column: 7 });
  });

  it('userFrame converts file:// URLs (ES modules) to paths', () => {
    const url = pathToFileURL('/app/src/app.mjs').href;
    assert.deepEqual(userFrame(`Error\n    at ${url}:5:9`), { file: '/app/src/app.mjs', line: 5, column: 9 });
  });

  it('userFrame: garbage and huge stacks give undefined or cut values, never a throw', () => {
    assert.equal(userFrame('nothing here'), undefined);
    assert.equal(userFrame(''), undefined);
    assert.equal(userFrame('Error\n    at eval (eval at <anonymous> (x))'), undefined);
    const long = '/' + 'd'.repeat(5000) + '/f.js';
    const loc = userFrame(`Error\n    at ${long}:1:1`);
    assert.ok(loc && loc.file.length <= 1024);
    const giant = 'Error\n' + '    at node:internal/x:1:1\n'.repeat(100_000);
    assert.equal(userFrame(giant), undefined);
  });

  it('isInternalFrame', () => {
    assert.ok(isInternalFrame('node:events'));
    assert.ok(isInternalFrame('/x/node_modules/express/index.js'));
    assert.ok(isInternalFrame('relative.js'));
    assert.ok(!isInternalFrame('/app/server.js'));
  });

  it('captureSite returns this test file', () => {
    const loc = captureSite();
    assert.equal(loc?.file, __filename);
  });

  it('mapLocation: follows //# sourceMappingURL (file and inline data:) and the map’s sourceRoot, keeps unmapped files and lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'routelens-map-'));
    try {
      // generated line 3 col 1 → source src/a.ts line 10 col 5
      const map = { version: 3, sources: ['src/a.ts'], names: [], mappings: ';;AASI' };
      writeFileSync(join(dir, 'a.js.map'), JSON.stringify(map));
      writeFileSync(join(dir, 'a.js'), 'x\ny\nz\n//# sourceMappingURL=a.js.map\n');
      assert.deepEqual(mapLocation({ file: join(dir, 'a.js'), line: 3, column: 1 }), { file: join(dir, 'src/a.ts'), line: 10, column: 5 });
      const inline = Buffer.from(JSON.stringify(map)).toString('base64');
      writeFileSync(join(dir, 'b.js'), `x\ny\nz\n//# sourceMappingURL=data:application/json;base64,${inline}\n`);
      assert.equal(mapLocation({ file: join(dir, 'b.js'), line: 3, column: 1 }).line, 10);
      writeFileSync(join(dir, 'c.js'), 'plain\n');
      assert.deepEqual(mapLocation({ file: join(dir, 'c.js'), line: 1, column: 2 }), { file: join(dir, 'c.js'), line: 1, column: 2 });
      writeFileSync(join(dir, 'd.js'), '//# sourceMappingURL=missing.map\n');
      assert.deepEqual(mapLocation({ file: join(dir, 'd.js'), line: 1, column: 1 }), { file: join(dir, 'd.js'), line: 1, column: 1 });
      assert.deepEqual(mapLocation({ file: join(dir, 'nope.js'), line: 0, column: -3 }), { file: join(dir, 'nope.js'), line: 1, column: 1 });
      // A line with no mapping of its own keeps its generated location (the mapping before it is another line's).
      assert.deepEqual(mapLocation({ file: join(dir, 'a.js'), line: 4, column: 1 }), { file: join(dir, 'a.js'), line: 4, column: 1 });
      // sources under the map's sourceRoot, relative or a file: URL
      writeFileSync(join(dir, 'e.js.map'), JSON.stringify({ ...map, sourceRoot: 'lib' }));
      writeFileSync(join(dir, 'e.js'), 'x\ny\nz\n//# sourceMappingURL=e.js.map\n');
      assert.deepEqual(mapLocation({ file: join(dir, 'e.js'), line: 3, column: 1 }), { file: join(dir, 'lib/src/a.ts'), line: 10, column: 5 });
      writeFileSync(join(dir, 'f.js.map'), JSON.stringify({ ...map, sourceRoot: 'file:///srv/app/' }));
      writeFileSync(join(dir, 'f.js'), 'x\ny\nz\n//# sourceMappingURL=f.js.map\n');
      assert.deepEqual(mapLocation({ file: join(dir, 'f.js'), line: 3, column: 1 }), { file: '/srv/app/src/a.ts', line: 10, column: 5 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('functionLocations: finds a function’s definition; native and bound functions stay unknown', () => {
    function here(): void {}
    const [a, b] = functionLocations([here, Math.max]);
    assert.equal(a?.file, __filename);
    assert.ok(a!.line > 1);
    assert.equal(b, undefined);
    assert.deepEqual(functionLocations([]), []);
  });

  it('sameLine', () => {
    assert.ok(sameLine({ file: 'a', line: 1, column: 1 }, { file: 'a', line: 1, column: 9 }));
    assert.ok(!sameLine({ file: 'a', line: 1, column: 1 }, undefined));
  });
});
