/**
 * Zero-code preload for ES-module apps: `node --import routelens/register app.mjs` (built to
 * dist/agent/register.mjs). Express is CommonJS, but a CJS package imported from ESM never goes
 * through `require`, so besides loading the CommonJS preload (./register.js, which covers every
 * `require('express')`) this registers import-in-the-middle's loader hook, limited to `express`,
 * and hands the imported module to the same `hookExpress`.
 */
import { createRequire, register } from 'node:module';
import { Hook } from 'import-in-the-middle';

// @ts-expect-error this file is built as an ES module (esbuild, format esm); tsc sees the package as CommonJS
const here: string = import.meta.url;
const cjs = createRequire(here)('./register.js') as { enabled: boolean; hookExpress(expressModule: unknown): void };

if (cjs.enabled) {
  try {
    register('import-in-the-middle/hook.mjs', here, { data: { include: ['express', 'express4'] } });
    new Hook(['express', 'express4'], (exported: { default?: unknown }) => {
      cjs.hookExpress(exported.default ?? exported);
    });
  } catch {
    /* CommonJS requires are still hooked */
  }
}
