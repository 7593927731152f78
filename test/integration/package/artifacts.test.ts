/**
 * The two artifacts built from this repository, by their file lists: the npm package
 * (`npm pack`, ruled by .npmignore) carries what a server loads; the .vsix (`npm run package`,
 * ruled by .vscodeignore) carries what the extension loads. Neither carries the other's bundles,
 * sources, tests or benchmarks. Both are made from the dist/ that `npm run build` wrote (the lists
 * do not depend on minification), so the test leaves that build as it found it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface Manifest {
  main: string;
  exports: Record<string, Record<string, string> | string>;
}
const manifest = (): Manifest => JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;

describe('package artifacts: the npm tarball', function () {
  this.timeout(120_000);
  let files: string[];

  before(() => {
    // Both bundles must exist for their absence from the tarball to mean anything.
    requireBuild();
    // --ignore-scripts: the list is the one `npm pack` makes from this dist/, without `prepare` rebuilding it.
    const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
  });

  it('carries the agent (with its worker), the protocol, their declarations, README and LICENSE', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/agent/index.js', 'dist/agent/index.mjs', 'dist/agent/register.js', 'dist/agent/worker.js', 'dist/protocol/index.js', 'dist/types/agent/index.d.ts', 'dist/types/protocol/index.d.ts']) {
      assert.ok(files.includes(f), `${f} is not in the tarball:\n${files.join('\n')}`);
    }
  });

  it('its bundles are pure ASCII, so the app holds their source at one byte per character (one non-ASCII character doubles it)', () => {
    const js = files.filter((f) => /^dist\/.*\.[cm]?js$/.test(f));
    assert.ok(js.includes('dist/agent/index.js') && js.includes('dist/agent/worker.js'), js.join('\n'));
    const offending = js.flatMap((f) => {
      const lines = readFileSync(join(root, f), 'utf8').split('\n');
      const i = lines.findIndex((l) => /[\u0080-\uffff]/.test(l));
      return i < 0 ? [] : [`${f}:${i + 1}: ${lines[i]!.trim().slice(0, 120)}`];
    });
    assert.deepEqual(offending, []);
  });

  it('carries the routelens command that package.json "bin" points at', () => {
    const bin = (manifest() as unknown as { bin: Record<string, string> }).bin;
    assert.deepEqual(Object.values(bin).map((t) => t.replace(/^\.\//, '')).filter((t) => !files.includes(t)), []);
  });

  it('carries every file that package.json "exports" points at', () => {
    const targets = Object.values(manifest().exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)));
    const missing = targets.map((t) => t.replace(/^\.\//, '')).filter((t) => !files.includes(t));
    assert.deepEqual(missing, []);
  });

  it('carries no extension or webview bundle, media, sources, tests or benchmarks', () => {
    for (const dir of ['dist/extension/', 'dist/webview/', 'dist/test/', 'media/', 'agent/', 'extension/', 'webview/', 'protocol/', 'test/', 'bench/', 'scripts/', 'examples/']) {
      assert.deepEqual(files.filter((f) => f.startsWith(dir)), [], `${dir} is in the tarball`);
    }
    const allowed = /^(dist\/(agent|protocol|types|cli)\/|docs\/[^/]+\.md$|(package\.json|README\.md|CHANGELOG\.md|LICENSE)$)/;
    assert.deepEqual(files.filter((f) => !allowed.test(f)), []);
  });
});

describe('package artifacts: the .vsix', function () {
  this.timeout(240_000);
  let entries: string[];

  before(() => {
    requireBuild();
    // `npm run package` is a production build, then this step.
    execFileSync(npm, ['run', '--silent', 'package:vsix'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    entries = zipEntries(readFileSync(join(root, 'dist/routelens.vsix')));
  });

  it('carries the extension bundle that package.json "main" names, and the webview bundle and stylesheet', () => {
    const main = `extension/${manifest().main.replace(/^\.\//, '')}`;
    for (const f of ['extension/package.json', main, 'extension/dist/webview/main.js', 'extension/dist/webview/style.css']) {
      assert.ok(entries.includes(f), `${f} is not in the .vsix:\n${entries.join('\n')}`);
    }
  });

  it('carries the icons package.json references and everything in media/ (the panel icon is set in code)', () => {
    const icons = iconPaths(manifest());
    assert.ok(icons.length > 0, 'package.json references no icon file');
    const media = readdirSync(join(root, 'media')).map((f) => `media/${f}`);
    const missing = [...new Set([...icons, ...media])].filter((f) => !entries.includes(`extension/${f}`));
    assert.deepEqual(missing, []);
  });

  it('carries no agent, sources, source maps, tests or benchmarks', () => {
    const allowed = /^(extension\.vsixmanifest|\[Content_Types\]\.xml|extension\/(package\.json|readme\.md|changelog\.md|LICENSE\.txt|dist\/extension\/[^/]+\.js|dist\/webview\/[^/]+\.(js|css)|media\/[^/]+))$/;
    assert.deepEqual(entries.filter((e) => !allowed.test(e)), []);
  });
});

function requireBuild(): void {
  for (const f of ['dist/agent/index.js', 'dist/extension/extension.js', 'dist/webview/main.js', 'dist/webview/style.css']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first (npm test does)`);
  }
}

/** Every icon file path (not a `$(codicon)`) under any "icon" key of the manifest. */
function iconPaths(value: unknown, key = ''): string[] {
  if (typeof value === 'string') return key === 'icon' && !value.startsWith('$(') ? [value.replace(/^\.\//, '')] : [];
  if (Array.isArray(value)) return value.flatMap((v) => iconPaths(v, key));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => iconPaths(v, k));
  return [];
}

/** The names in a zip file's central directory (what `unzip -l` lists). */
function zipEntries(zip: Buffer): string[] {
  // End of central directory: signature, then (at +10) the entry count and (at +16) the directory's offset.
  let eocd = zip.length - 22;
  while (eocd >= 0 && zip.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, 'not a zip file: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  const names: string[] = [];
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(p), 0x02014b50, `bad central directory header at ${p}`);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    names.push(zip.toString('utf8', p + 46, p + 46 + nameLength));
    p += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}
