/** Locations of an app compiled from TypeScript (esbuild → CommonJS + external source map) point at the .ts lines. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { instrumentExpress } from '../../../agent/express/instrument';
import { Diagnostics, silentLogger } from '../../../agent/log';
import { markerLocation, memoryRecorder, until, versions } from './support';

const tsFile = join(__dirname, '../../fixtures/express-apps/typed.ts');
const tsSource = readFileSync(tsFile, 'utf8');

describe('express locations through source maps', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'routelens-sm-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, express] of versions) {
    it(`maps registration and handler sites of compiled JS back to the .ts (${name})`, async () => {
      const out = join(dir, `typed-${name}.js`);
      // minified whitespace and a banner shift every generated line: unmapped numbers cannot match by accident
      buildSync({ entryPoints: [tsFile], outfile: out, format: 'cjs', platform: 'node', sourcemap: 'linked', banner: { js: '/* banner */\n'.repeat(7) }, logLevel: 'silent' });
      assert.match(readFileSync(out, 'utf8'), /\/\/# sourceMappingURL=typed-express\d\.js\.map/);
      const rec = memoryRecorder();
      const table = instrumentExpress(express, { registerRoute: (d) => rec.registerRoute(d), diag: new Diagnostics(silentLogger) })!;
      try {
         
        (require(out) as { build(e: unknown): unknown }).build(express);
        await until(() => rec.def('GET /typed/pets') !== undefined);
        const def = rec.def('GET /typed/pets')!;
        const expected = markerLocation(tsSource, 'typed', 'get(');
        assert.equal(def.location?.file, tsFile);
        assert.equal(def.location?.line, expected.line);
        assert.equal(def.location?.column, expected.column);
        await until(() => rec.def('GET /typed/pets')?.handlerLocation !== undefined);
        const handler = rec.def('GET /typed/pets')!.handlerLocation!;
        assert.equal(handler.file, tsFile);
        assert.equal(handler.line, tsSource.split('\n').findIndex((l) => l.startsWith('function listPets')) + 1);
      } finally {
        table.detach();
      }
    });
  }
});
