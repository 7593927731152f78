/**
 * NestJS on Express, end to end: a real Nest app (test/fixtures/nest-app: a controller with
 * @Get(), @Get(':id') and @Post(), and a request-scoped one, under `app.setGlobalPrefix('api')`),
 * compiled by tsc with decorators and source maps, on Nest 11 (CommonJS) and Nest 12 (ES
 * modules), run in a child process with the preload and with the explicit API (the agent
 * created after NestFactory.create, `app.use(agent.middleware())`). Every route is known before any traffic,
 * by template, located at its controller method in the `.ts` file (location and handler
 * location), requests are measured by template, and the app answers exactly as without the agent.
 *
 * Slow the first time: Nest is installed with npm once per major into the OS temp dir
 * (`routelens-nest-<major>`) and reused by later runs.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SourceLocation } from '../../../protocol';
import { type Bundle, bundleAgent, root } from './child';
import { stableHeaders, until } from './support';

const run = promisify(execFile);

interface Endpoint {
  id: string;
  count: number;
  location?: SourceLocation;
  handlerLocation?: SourceLocation;
}

/** Nest's packages for one major, installed once into the OS temp dir (renamed into place when complete). */
async function nestModules(major: number): Promise<string> {
  const dir = join(tmpdir(), `routelens-nest-${major}`);
  if (existsSync(join(dir, 'node_modules/@nestjs/platform-express/package.json'))) return dir;
  const work = `${dir}.${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: `routelens-nest-${major}`, private: true }));
  const packages = [`@nestjs/core@${major}`, `@nestjs/common@${major}`, `@nestjs/platform-express@${major}`, 'reflect-metadata', 'rxjs', 'typescript@5.9'];
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...packages], { cwd: work, timeout: 240_000 });
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
  return dir;
}

/** The fixture app copied next to Nest's node_modules and compiled by tsc; returns its folder. */
async function compileApp(modules: string, type: 'commonjs' | 'module'): Promise<string> {
  const app = mkdtempSync(join(modules, 'app-'));
  cpSync(join(root, 'test/fixtures/nest-app'), app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ type }));
  const tsc = join(modules, 'node_modules/typescript/bin/tsc');
  try {
    await run(process.execPath, [tsc, '-p', app, '--typeRoots', join(root, 'node_modules/@types'), '--types', 'node'], { cwd: app });
  } catch (err) {
    throw new Error(`tsc failed: ${(err as { stdout?: string }).stdout ?? String(err)}`, { cause: err });
  }
  return app;
}

/** A request with an optional JSON body: status, headers that do not vary between runs, body. */
function call(port: number, method: string, path: string, body?: object): Promise<{ status: number; headers: object; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers = data === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(data)) };
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: stableHeaders(res.headers), body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

const TRAFFIC: Array<[string, string, object?]> = [
  ['GET', '/api/items'],
  ['GET', '/api/items/2'],
  ['POST', '/api/items', { name: 'three' }],
  ['GET', '/api/items/3'],
  ['GET', '/api/items/99'],
  ['GET', '/api/scoped'],
  ['GET', '/nothing'],
];

/** Each controller route: its id, its controller's file under src/, and the text of its method's line. */
const CONTROLLER_ROUTES: Array<[string, string, string]> = [
  ['GET /api/items', 'items.controller.ts', 'findAll('],
  ['GET /api/items/:id', 'items.controller.ts', 'findOne('],
  ['POST /api/items', 'items.controller.ts', 'create('],
  // request-scoped: Nest's handler holds the controller's instance and the method's name
  ['GET /api/scoped', 'scoped.controller.ts', 'which('],
];

/** The endpoints lines an app printed (one at start, one per SIGUSR2). */
function endpointLines(stdout: string): Endpoint[][] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{"endpoints":'))
    .map((l) => (JSON.parse(l) as { endpoints: Endpoint[] | null }).endpoints ?? []);
}

describe('NestJS on Express (Nest 11 CommonJS, Nest 12 ES modules; slow: installs Nest once per major)', function () {
  this.timeout(600_000);
  let bundle: Bundle;

  before(async () => {
    bundle = await bundleAgent('routelens-nest-');
  });
  after(() => bundle?.close());

  const majors: Array<[number, 'commonjs' | 'module']> = [
    [11, 'commonjs'],
    [12, 'module'],
  ];
  for (const [major, type] of majors) {
    describe(`Nest ${major} (${type === 'module' ? 'ES modules' : 'CommonJS'})`, () => {
      let app: string;
      let plain: Array<{ status: number; headers: object; body: string }>;

      before(async () => {
        app = await compileApp(await nestModules(major), type);
        const { port, child } = await bundle.start([], 'dist/main.js', { RL_MODE: 'none' }, app);
        try {
          plain = [];
          for (const [method, path, body] of TRAFFIC) plain.push(await call(port, method, path, body));
        } finally {
          child.kill('SIGKILL');
        }
        assert.equal(plain[1]!.status, 200, JSON.stringify(plain));
        assert.equal(plain[4]!.status, 404);
      });
      after(() => {
        if (app) rmSync(app, { recursive: true, force: true });
      });

      const lineOf = (file: string, text: string): number => {
        const line = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(text)) + 1;
        assert.ok(line > 0, text);
        return line;
      };

      const ways: Array<[string, () => string[], string]> = [
        ['the preload (--require register.js)', () => ['--require', bundle.agent.register], 'preload'],
        ['the explicit API (agent created after NestFactory.create)', () => [], 'explicit'],
      ];
      if (type === 'module') ways.push(['the preload (--import register.mjs)', () => ['--import', bundle.agent.registerEsm], 'preload']);

      for (const [title, args, mode] of ways) {
        it(`${title}: routes known before traffic at their controller methods, measured by template, answers unchanged`, async () => {
          const { port, child, stdout } = await bundle.start(args(), 'dist/main.js', { RL_MODE: mode }, app);
          try {
            const [before] = endpointLines(stdout());
            assert.ok(before, stdout());
            const byId = new Map(before.map((e) => [e.id, e]));
            // Nest 12 adds its own not-found route under the prefix (`ALL /api/*path`); the controller's are these.
            assert.deepEqual(
              before.map((e) => e.id).filter((id) => !id.startsWith('ALL ')).sort(),
              CONTROLLER_ROUTES.map(([id]) => id).sort(),
              JSON.stringify(before),
            );
            for (const [id, file, method] of CONTROLLER_ROUTES) {
              const e = byId.get(id)!;
              const controller = join(app, 'src', file);
              assert.equal(e.count, 0, `${id} known before any request`);
              assert.equal(e.location?.file, controller, `${id} location: ${JSON.stringify(e.location)}`);
              assert.equal(e.location?.line, lineOf(controller, method), `${id} lens on the controller method`);
              assert.equal(e.handlerLocation?.file, controller, `${id} handlerLocation: ${JSON.stringify(e.handlerLocation)}`);
              assert.equal(e.handlerLocation?.line, lineOf(controller, method));
            }
            assert.ok(!before.some((e) => e.location?.file.endsWith('main.ts') && !e.id.startsWith('ALL ')), 'no controller route on the listen() line');

            const answers = [];
            for (const [method, path, body] of TRAFFIC) answers.push(await call(port, method, path, body));
            assert.deepEqual(answers, plain, 'the app answers as without the agent');

            const seen = endpointLines(stdout()).length;
            child.kill('SIGUSR2');
            await until(() => endpointLines(stdout()).length > seen);
            const after = new Map(endpointLines(stdout()).at(-1)!.map((e) => [e.id, e.count]));
            assert.equal(after.get('GET /api/items'), 1, JSON.stringify([...after]));
            assert.equal(after.get('GET /api/items/:id'), 3);
            assert.equal(after.get('POST /api/items'), 1);
            assert.equal(after.get('GET /api/scoped'), 1);
            assert.ok(![...after.keys()].some((id) => /\/items\/\d/.test(id)), 'no raw URLs');
          } finally {
            child.kill('SIGKILL');
          }
        });
      }
    });
  }
});
