/**
 * The extension-host test module (VS Code's `extensionTestsPath`), bundled to
 * dist/test/vscode/index.js. run() runs mocha inside the real extension host
 * and writes the results to ROUTELENS_TEST_RESULTS (read by run.mjs).
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Mocha from 'mocha';

export const RESULTS_FILE_ENV = 'ROUTELENS_TEST_RESULTS';

export interface TestResults {
  passes: number;
  failures: number;
  pending: number;
  /** Spec-style output, ending in "N passing" / "N failing". */
  output: string;
}

export function run(): Promise<void> {
  const file = process.env[RESULTS_FILE_ENV] ?? join(tmpdir(), 'routelens-vscode-test-results.json');
  const grep = process.env.ROUTELENS_TEST_GREP;
  const mocha = new Mocha({ ui: 'bdd', timeout: 30_000, color: false, reporter: class {} as never, ...(grep ? { grep } : {}) });
  mocha.suite.emit('pre-require', globalThis, 'extension-host', mocha);
  // Loaded after the globals exist (esbuild keeps these requires lazy).
  require('./extension.test');
  require('./baseline.test');
  require('./demo.test');
  require('./assistant.test');
  require('./findings.test');

  const lines: string[] = [];
  let indent = 0;
  const failures: Array<{ title: string; err: Error }> = [];
  return new Promise<void>((resolve) => {
    const runner = mocha.run((failed) => {
      lines.push('', `  ${runner.stats?.passes ?? 0} passing`);
      if (runner.stats?.pending) lines.push(`  ${runner.stats.pending} pending`);
      if (failed) {
        lines.push(`  ${failed} failing`, '');
        failures.forEach((f, i) => lines.push(`  ${i + 1}) ${f.title}:`, `     ${String(f.err?.stack ?? f.err).split('\n').join('\n     ')}`, ''));
      }
      const results: TestResults = { passes: runner.stats?.passes ?? 0, failures: failed, pending: runner.stats?.pending ?? 0, output: lines.join('\n') };
      writeFileSync(file, JSON.stringify(results));
      resolve();
    });
    runner.on('suite', (s) => {
      if (s.title) lines.push(`${'  '.repeat(++indent)}${s.title}`);
    });
    runner.on('suite end', (s) => {
      if (s.title) indent--;
    });
    runner.on('pass', (t) => lines.push(`${'  '.repeat(indent + 1)}✔ ${t.title} (${t.duration ?? 0}ms)`));
    runner.on('pending', (t) => lines.push(`${'  '.repeat(indent + 1)}- ${t.title}`));
    runner.on('fail', (t, err) => {
      failures.push({ title: t.fullTitle(), err });
      lines.push(`${'  '.repeat(indent + 1)}${failures.length}) ${t.title}`);
    });
  });
}
