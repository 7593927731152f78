import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const location = join(__dirname, '../../../agent/express/location.ts');
const MODULES = 300;

/**
 * Runs `body` in a child process (tsx, --expose-gc) that first loads MODULES small CommonJS
 * modules of 40 lines each; `body` prints one JSON line. `lineEndTables()` in the child counts the
 * line-end tables V8 keeps, from a heap snapshot.
 */
function child(dir: string, body: string): Record<string, unknown> {
  for (let i = 0; i < MODULES; i++) {
    writeFileSync(join(dir, `m${i}.js`), `exports.f${i} = function f${i}(a) {\n${'  a = a + 1;\n'.repeat(38)}  return a;\n};\n`);
  }
  const script = join(dir, 'child.js');
  writeFileSync(
    script,
    [
      `const { functionLocations } = require(${JSON.stringify(location)});`,
      `const { readFileSync, rmSync } = require('node:fs');`,
      `const v8 = require('node:v8');`,
      `for (let i = 0; i < ${MODULES}; i++) require(${JSON.stringify(dir)} + '/m' + i + '.js');`,
      // Calls each(type, name, selfSize, edgeCount) for every node of a heap snapshot taken now.
      `function eachNode(each) {`,
      `  const file = v8.writeHeapSnapshot(${JSON.stringify(join(dir, 'heap.heapsnapshot'))});`,
      `  const snap = JSON.parse(readFileSync(file, 'utf8'));`,
      `  rmSync(file);`,
      `  const fields = snap.snapshot.meta.node_fields, types = snap.snapshot.meta.node_types[0];`,
      `  const type = fields.indexOf('type'), name = fields.indexOf('name'), size = fields.indexOf('self_size'), edges = fields.indexOf('edge_count');`,
      `  for (let i = 0; i < snap.nodes.length; i += fields.length) each(types[snap.nodes[i + type]], snap.strings[snap.nodes[i + name]], snap.nodes[i + size], snap.nodes[i + edges]);`,
      `}`,
      `function lineEndTables() {`,
      `  let n = 0; eachNode((type, name) => { if (type === 'code' && name.includes('line ends')) n++; });`,
      `  return n;`,
      `}`,
      body,
    ].join('\n'),
  );
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', script], { cwd: join(__dirname, '../../..'), encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** Runs `setup` (which defines `list`) in the child, then, after two full collections, locates `list`. */
function locateAfterFullGc(dir: string, setup: string[]): Record<string, unknown> {
  return child(
    dir,
    [
      ...setup,
      `setImmediate(() => {`,
      `  global.gc();`,
      `  global.gc();`,
      `  const [found] = functionLocations([list]);`,
      `  console.log(JSON.stringify({ found, tables: lineEndTables() }));`,
      `});`,
    ].join('\n'),
  );
}

describe('express/location: what locating functions leaves in the app’s heap', function () {
  this.timeout(90_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'routelens-heap-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('functionLocations computes no line-end table for the scripts whose functions it does not locate', () => {
    const result = child(
      dir,
      [
        `function handler(req, res) { return res; }`,
        `const [here] = functionLocations([handler]);`,
        `console.log(JSON.stringify({ here, tables: lineEndTables() }));`,
      ].join('\n'),
    );
    assert.deepEqual(result.here, { file: join(dir, 'child.js'), line: 17, column: 17 });
    // before: one table per loaded script (over MODULES); now the located script's and a few of node's own
    assert.ok((result.tables as number) < MODULES / 10, `${String(result.tables)} line-end tables after locating one function among ${MODULES} modules`);
  });

  it('locating 2,000 functions at once leaves no large table of remote objects behind (the inspector never shrinks it)', () => {
    const result = child(
      dir,
      [
        `const fns = Array.from({ length: 2000 }, (_, i) => ((k) => (req, res) => res.json({ k }))(i));`,
        `const found = functionLocations(fns);`,
        `global.gc();`,
        // V8's number-to-string cache is as large, but holds nothing after a full collection
        `let largest = 0;`,
        `eachNode((type, name, size, edges) => { if (type === 'array' && edges > 100) largest = Math.max(largest, size); });`,
        `console.log(JSON.stringify({ located: found.filter(Boolean).length, largest }));`,
      ].join('\n'),
    );
    assert.equal(result.located, 2000);
    // before: 262 kB (an ephemeron table of 32k slots held by the inspector); now about 16 kB
    assert.ok((result.largest as number) < 100_000, `largest array ${String(result.largest)} bytes`);
  });

  it('functionLocations finds, without line-end tables, a CommonJS file none of whose live functions ran (after a full GC)', () => {
    writeFileSync(join(dir, 'routes.js'), `// routes\n\nexports.list = (req, res) => res.json([]);\n`);
    const result = locateAfterFullGc(dir, [`const { list } = require(${JSON.stringify(join(dir, 'routes.js'))});`]);
    assert.deepEqual(result.found, { file: join(dir, 'routes.js'), line: 3, column: 16 });
    assert.ok((result.tables as number) < MODULES / 10, `${String(result.tables)} line-end tables`);
  });

  it('functionLocations still locates a function whose file changed on disk since it was loaded (through the Debugger domain)', () => {
    const routes = join(dir, 'routes.js');
    writeFileSync(routes, `// routes\n\nexports.list = (req, res) => res.json([]);\n`);
    const result = locateAfterFullGc(dir, [
      `const { list } = require(${JSON.stringify(routes)});`,
      `require('node:fs').writeFileSync(${JSON.stringify(routes)}, '// edited\\n\\n\\nexports.list = (req, res) => res.json([1]);\\n');`,
    ]);
    // where the function is in the script that ran, from the Debugger domain: a line-end table per loaded script
    assert.deepEqual(result.found, { file: routes, line: 3, column: 16 });
    assert.ok((result.tables as number) > MODULES, `${String(result.tables)} line-end tables`);
  });
});
