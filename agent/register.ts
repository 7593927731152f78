/**
 * Zero-code preload (CommonJS): `node --require routelens/register app.js`, or
 * `NODE_OPTIONS="--require routelens/register"`. When any module first requires `express`,
 * the process's one agent is created, the module is instrumented and every app gets the
 * app measured from its entry (its `app.handle` wrapped at its first registration).
 * `ROUTELENS_DISABLED=1` (or `true`) turns the preload into a no-op.
 *
 * Either flag instruments either kind of app: `--import routelens/register` (agent/register-esm.ts)
 * only loads this file, which also registers an import hook for Express imported from ES modules.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Middleware } from './api-types';
import { Hook } from 'require-in-the-middle';
import { injectMiddleware, isExpress } from './express/instrument';

/** What the preload needs of the agent (`createAgent()` from agent/index.ts). */
export interface PreloadAgent {
  middleware(): Middleware;
  instrument(expressModule: unknown): void;
}

/** False when ROUTELENS_DISABLED is set: nothing is hooked. */
export const enabled = !(process.env.ROUTELENS_DISABLED === '1' || process.env.ROUTELENS_DISABLED === 'true');

const EXPRESS_NAMES = ['express', 'express4'];
let agent: PreloadAgent | null | undefined;
const hooked = new WeakSet<object>();

/**
 * THE coupling to the rest of the agent, kept in one place: creates the agent on first need.
 * Loaded by path at run time (not bundled), so the preload and `require('routelens/agent')`
 * share one copy of the agent's modules.
 */
function createPreloadAgent(): PreloadAgent {
   
  const index = require(join(__dirname, 'index')) as { createAgent(options?: object): PreloadAgent };
  return index.createAgent();
}

/** The agent the preload created (undefined until Express is first loaded, or when disabled or failed). */
export function preloadAgent(): PreloadAgent | undefined {
  if (agent === undefined && enabled) {
    try {
      agent = createPreloadAgent();
    } catch (err) {
      agent = null;
      // A start-up failure is the one thing the preload reports unasked (see agent/log.ts): one line, and the app runs on.
      reportStartFailure(err);
    }
  }
  return agent ?? undefined;
}

function reportStartFailure(err: unknown): void {
  try {
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown } | null)?.code;
    process.stderr.write(`[routelens] the agent could not start (${message}${typeof code === 'string' ? `, ${code}` : ''}); the app runs on without it\n`);
  } catch {
    /* the app comes first */
  }
}

/** Instruments one loaded Express module and injects the middleware into its apps (idempotent). */
export function hookExpress(expressModule: unknown): void {
  try {
    if (!enabled || !isExpress(expressModule) || hooked.has(expressModule as object)) return;
    hooked.add(expressModule as object);
    const a = preloadAgent();
    if (!a) return;
    a.instrument(expressModule);
    injectMiddleware(expressModule, () => a.middleware());
  } catch {
    /* the app comes first */
  }
}

/**
 * Express imported from an ES module never passes through `require`, so the require hook alone
 * would miss every ESM app (and Nest 12). import-in-the-middle's loader hook, registered through
 * Node's `module.register`, sees those imports; registering it here, once, lets either flag
 * (`--require` or `--import`) instrument either kind of app.
 */
const IMPORT_HOOK = Symbol.for('routelens.importHook');

function hookImports(): void {
  const { register } = require('node:module') as { register?: (specifier: string, parentURL: string, options?: object) => void };
  if (typeof register !== 'function') {
    process.stderr.write('routelens: this Node.js cannot hook ES-module imports from --require; start an ES-module app with --import routelens/register\n');
    return;
  }
  // One loader hook per process, even when two copies of the preload load (two flags, or the
  // package installed twice): a second registration would only make Node warn.
  const registry = globalThis as { [IMPORT_HOOK]?: true };
  if (registry[IMPORT_HOOK]) return;
  registry[IMPORT_HOOK] = true;
  register('import-in-the-middle/hook.mjs', pathToFileURL(__filename).href, { data: { include: EXPRESS_NAMES } });
  const { Hook: ImportHook } = require('import-in-the-middle') as typeof import('import-in-the-middle');
  new ImportHook(EXPRESS_NAMES, (exported: { default?: unknown }) => {
    hookExpress(exported.default ?? exported);
  });
}

if (enabled) {
  new Hook(EXPRESS_NAMES, { internals: false }, (exports) => {
    hookExpress(exports);
    return exports;
  });
  try {
    hookImports();
  } catch {
    /* CommonJS requires are still hooked */
  }
}
