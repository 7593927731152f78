/**
 * Zero-code preload, ES-module entry: `node --import routelens/register app.mjs` (built to
 * dist/agent/register.mjs). It loads the CommonJS preload (./register.js), which hooks both
 * `require('express')` and `import express from 'express'`, so `--import` and `--require` are
 * interchangeable.
 */
import { createRequire } from 'node:module';

// @ts-expect-error this file is built as an ES module (esbuild, format esm); tsc sees the package as CommonJS
const here: string = import.meta.url;
createRequire(here)('./register.js');
