/**
 * The npm package, as a user gets it: `npm pack`, installed into a separate
 * project, then required (CommonJS), imported (ESM), type-checked, and used as
 * a zero-code preload on a plain Express app.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

const root = join(__dirname, '../../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

describe('package routelens as installed by a user', function () {
  this.timeout(180_000);
  let project: string;

  before(function () {
    if (!existsSync(join(root, 'dist/agent/index.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    project = mkdtempSync(join(tmpdir(), 'routelens-consumer-'));
    const packDir = join(project, 'pack');
    mkdirSync(packDir);
    execFileSync(npm, ['pack', '--silent', '--pack-destination', packDir], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz'))!);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, version: '1.0.0' }));
    const expressVersion = (JSON.parse(readFileSync(join(root, 'node_modules/express/package.json'), 'utf8')) as { version: string }).version;
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', tarball, `express@${expressVersion}`, 'typescript@5.9', '@types/node@20', '@types/express@5'], {
      cwd: project,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  });

  after(() => rmSync(project, { recursive: true, force: true }));

  it('require("routelens/agent") works from CommonJS', () => {
    const out = execFileSync(process.execPath, ['-e', "const a = require('routelens/agent'); console.log(typeof a.createAgent, typeof a.createCache, typeof a.RouteLensError)"], { cwd: project, encoding: 'utf8' });
    assert.equal(out.trim(), 'function function function');
  });

  it('an agent with no Redis never loads ioredis (about 2 MB of heap saved)', () => {
    const script = [
      "const { createAgent } = require('routelens/agent');",
      'const agent = createAgent({ server: false, discoveryDir: false });',
      "console.log(Object.keys(require.cache).filter((k) => k.includes('/node_modules/ioredis/')).length);",
      'void agent.close();',
    ].join('\n');
    assert.equal(execFileSync(process.execPath, ['-e', script], { cwd: project, encoding: 'utf8' }).trim(), '0');
  });

  it('import { createAgent } from "routelens/agent" works from ES modules', () => {
    writeFileSync(join(project, 'esm.mjs'), "import { createAgent, createCache } from 'routelens/agent';\nconsole.log(typeof createAgent, typeof createCache);\n");
    assert.equal(execFileSync(process.execPath, ['esm.mjs'], { cwd: project, encoding: 'utf8' }).trim(), 'function function');
  });

  it('ships type declarations that a TypeScript project type-checks against', () => {
    writeFileSync(
      join(project, 'app.ts'),
      [
        "import express from 'express';",
        "import type { Request, Response } from 'express';",
        "import { createAgent, type Snapshot, type EndpointStats, type RateLimitResult } from 'routelens/agent';",
        'const agent = createAgent({ port: 0, discoveryDir: false });',
        'const app = express();',
        'app.use(agent.middleware());',
        // Callbacks may take Express's own types, or none and get the structural ones.
        "app.use(agent.rateLimit({ max: 5, key: (req: Request) => req.ip ?? '', handler: (_req, res) => { res.status(429).json({ slow: 'down' }); } }));",
        "app.get('/c', agent.cacheResponses({ ttl: 1000, key: (req: Request) => req.originalUrl, tags: (req) => [req.path ?? ''] }), (_req: Request, res: Response) => { res.send('ok'); });",
        // The limiter from code: check and consume, typed from the package's own declarations.
        "const perUser = agent.rateLimit({ name: 'per-user', max: 10 });",
        "export const job: Promise<boolean> = perUser.consume('u1', 2).then((r: RateLimitResult) => r.allowed && r.remaining >= 0 && r.fallback !== 'fail-open');",
        "export const left: Promise<number> = perUser.check('u1').then((r) => r.resetMs);",
        'const s: Snapshot = agent.snapshot();',
        'const first: EndpointStats | undefined = s.endpoints[0];',
        'export const p95: number | undefined = first?.p95;',
        'void agent.close();',
      ].join('\n'),
    );
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true, noEmit: true, esModuleInterop: true, skipLibCheck: false, types: ['node'] }, files: ['app.ts'] }));
    execFileSync(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project, stdio: 'inherit' });
  });

  it('ships declarations that import only their own files and node: built-ins, so no dependency\'s types enter a user\'s compile', () => {
    const pkgDir = join(project, 'node_modules/routelens');
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { exports: Record<string, { types?: string } | string> };
    const entries = Object.values(manifest.exports).flatMap((e) => (typeof e === 'object' && e.types ? [join(pkgDir, e.types)] : []));
    assert.ok(entries.length >= 3, `type entries: ${entries.join(', ')}`);
    const foreign = foreignImports(entries);
    assert.deepEqual(foreign, [], `declarations import other packages:\n${foreign.join('\n')}`);
  });

  it('node --require routelens/register measures an unmodified Express app and advertises it', async () => {
    const discovery = mkdtempSync(join(tmpdir(), 'routelens-disc-'));
    writeFileSync(
      join(project, 'plain.js'),
      [
        "const express = require('express');",
        'const app = express();',
        "app.get('/users/:id', (req, res) => res.json({ id: req.params.id }));",
        "const server = app.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));",
      ].join('\n'),
    );
    const child = spawn(process.execPath, ['--require', 'routelens/register', 'plain.js'], { cwd: project, env: { ...process.env, ROUTELENS_DISCOVERY_DIR: discovery }, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          const m = /PORT (\d+)/.exec(String(d));
          if (m) resolve(Number(m[1]));
        });
        child.once('exit', (code) => reject(new Error(`app exited with ${code}`)));
      });
      for (const id of [1, 2, 3]) await get(port, `/users/${id}`, {});
      const file = await waitFor(() => readdirSync(discovery).find((f) => /^agent-\d+\.json$/.test(f)));
      const rec = JSON.parse(readFileSync(join(discovery, file), 'utf8')) as { port: number; token: string; pid: number };
      assert.equal(rec.pid, child.pid);
      const endpoints = await waitFor(async () => {
        const body = JSON.parse(await get(rec.port, '/v1/endpoints?sort=most-requested', { authorization: `Bearer ${rec.token}` })) as { endpoints: Array<{ id: string; count: number }> };
        const e = body.endpoints.find((x) => x.id === 'GET /users/:id');
        return e && e.count === 3 ? body.endpoints : undefined;
      });
      assert.ok(endpoints.some((e) => e.id === 'GET /users/:id'));
    } finally {
      child.kill('SIGTERM');
      rmSync(discovery, { recursive: true, force: true });
    }
  });
});

/** Every non-relative, non-`node:` module that the declaration files reachable from `entries` import. */
function foreignImports(entries: string[]): string[] {
  const seen = new Set<string>();
  const foreign: string[] = [];
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) {
        const base = join(dirname(file), spec).replace(/\.js$/, '');
        const next = [`${base}.d.ts`, join(base, 'index.d.ts')].find((f) => existsSync(f));
        if (!next) throw new Error(`${file}: cannot resolve ${spec}`);
        visit(next);
      } else if (!spec.startsWith('node:')) {
        foreign.push(`${relative(join(file, '../..'), file)} imports ${spec}`);
      }
    }
  };
  entries.forEach(visit);
  return foreign;
}

function get(port: number, path: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${path}: ${res.statusCode} ${body}`))));
      })
      .on('error', reject);
  });
}

async function waitFor<T>(fn: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
