// An esbuild plugin: every JavaScript file the build writes is pure ASCII. esbuild escapes
// non-ASCII characters in strings, templates, regular expressions and names, but not in the
// comments it keeps (those on object literal properties, for one); a single "→" there makes V8
// hold the whole bundle's source as two bytes per character, in the heap of the process that
// loads it (the app's, for the agent). Each such character becomes a \uXXXX escape: inert in a
// comment, the same character anywhere else.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const NON_ASCII = /[\u0080-\uffff]/g;
const ANY_NON_ASCII = /[\u0080-\uffff]/;

/** `text` with each UTF-16 unit above 0x7f written as a \uXXXX escape. */
function escapeNonAscii(text) {
  return text.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const asciiOutput = {
  name: 'ascii-output',
  setup(build) {
    build.initialOptions.metafile = true;
    const cwd = build.initialOptions.absWorkingDir ?? process.cwd();
    build.onEnd((result) => {
      for (const file of Object.keys(result.metafile?.outputs ?? {})) {
        if (!/\.[cm]?js$/.test(file)) continue;
        const path = join(cwd, file);
        const text = readFileSync(path, 'utf8');
        if (ANY_NON_ASCII.test(text)) writeFileSync(path, escapeNonAscii(text));
      }
    });
  },
};

module.exports = { asciiOutput, escapeNonAscii };
