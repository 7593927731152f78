// How the agent's bundles are built (dist/agent/, by scripts/build.mjs, and the bench's copy, by
// bench/lib/adapter.ts), so that the bench measures what users run. Their source stays in the heap
// of the app that loads them (the agent's index.js in the app's main thread, 0.5 MB unminified):
// whitespace and comments go, and the syntax is shortened where it means the same, but names stay,
// so stack traces through the agent still read (the source maps beside the bundles map them back).
// Pure ASCII as well (scripts/ascii-output.cjs).
'use strict';
const { asciiOutput } = require('./ascii-output.cjs');

/** esbuild options every agent bundle is built with. */
const agentBundle = { minifyWhitespace: true, minifySyntax: true, plugins: [asciiOutput] };

module.exports = { agentBundle };
