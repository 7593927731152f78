/** `routelens compare`: two baseline files, or base and head of the app in alternating rounds. */
import { readFileSync } from 'node:fs';
import type { Command, CliIO, OptionValues } from '../command';
import { UsageError, stringOption } from '../command';
import { compareFiles } from '../perf/compare-files';
import { checkoutBase } from '../perf/git';
import { RUN_OPTIONS, RUN_OPTIONS_HELP, runSettings } from '../perf/options';
import { type ComparisonReport, comparedPaths, comparisonMarkdown, parseBaseline, skippedMarkdown, writeJsonAndMarkdown } from '../perf/report';
import { compareRounds, runRounds } from '../perf/rounds';

/** Shorter phases per round than a baseline's: rounds add up. */
const ROUND_LOAD = { seconds: 4, peakSeconds: 1, warmupSeconds: 1 };

export const compare: Command = {
  name: 'compare',
  summary: 'compare two baselines, or your app against a git ref in alternating rounds; exit 1 when a route got slower',
  help: [
    'Usage: routelens compare <base.json> <head.json> [--threshold 10]',
    '       routelens compare --cmd "node app.js" --base <git-ref> [--rounds 5] [options]',
    '       routelens compare --cmd "<head command>" --base-cmd "<base command>" [--rounds 5] [options]',
    '',
    'Per route, the change of p50, p95, p99 and peak throughput, each with a ~95 % interval and',
    'a verdict: regressed, improved, unchanged or inconclusive. Prints Markdown for a pull request;',
    'exits 1 when a route regressed on p95 beyond the threshold with confidence.',
    '',
    'With --base, the ref is checked out into a temporary git worktree (npm ci when it has a',
    'lockfile) and base and head run alternately in rounds of fresh processes, with an A/A pair',
    '(base twice) that shows how much the machine alone moves each figure. --base-cmd compares',
    'two commands in this directory instead (e.g. an environment switch). Routes with parameters',
    "are driven on both sides with the same paths: the scenario's, else those the head's agent",
    'recorded from real traffic (the base checkout has no history of its own), else its slow log.',
    '',
    '  --threshold <percent>   the change on p95 that counts (default 10)',
    '  --base <git-ref>        the ref to compare against (with --cmd)',
    '  --base-cmd "<command>"  the command of the base (with --cmd), instead of --base',
    '  --rounds <n>            rounds (default 5)',
    '  --out <file.json>       also write the comparison as JSON (and Markdown beside it)',
    RUN_OPTIONS_HELP,
    `  (per round: --duration ${ROUND_LOAD.seconds}, --peak ${ROUND_LOAD.peakSeconds}, --warmup ${ROUND_LOAD.warmupSeconds} unless given)`,
  ].join('\n'),
  positionals: true,
  options: { ...RUN_OPTIONS, threshold: { type: 'string' }, base: { type: 'string' }, 'base-cmd': { type: 'string' }, rounds: { type: 'string' }, out: { type: 'string' } },
  async run(values, positionals, io) {
    const thresholdRaw = stringOption(values, 'threshold') ?? '10';
    const threshold = Number(thresholdRaw);
    if (!Number.isFinite(threshold) || threshold <= 0 || threshold > 1000) throw new UsageError(`--threshold must be a percentage above 0, not ${JSON.stringify(thresholdRaw)}`);
    const report = values.cmd !== undefined ? await compareRuns(values, positionals, io, threshold / 100) : compareBaselineFiles(positionals, threshold / 100);
    const md = comparisonMarkdown(report);
    io.out(md);
    const out = stringOption(values, 'out');
    if (out) writeJsonAndMarkdown(out, report, md);
    return report.routes.some((r) => r.verdict === 'regressed') ? 1 : 0;
  },
};

function compareBaselineFiles(positionals: string[], threshold: number): ComparisonReport {
  if (positionals.length !== 2) throw new UsageError('give two baseline files (base.json head.json), or --cmd with --base');
  const [baseFile, headFile] = positionals as [string, string];
  const read = (f: string) => {
    try {
      return parseBaseline(readFileSync(f, 'utf8'), f);
    } catch (err) {
      throw new Error((err as NodeJS.ErrnoException).code === 'ENOENT' ? `${f}: no such file` : (err as Error).message, { cause: err });
    }
  };
  return compareFiles(read(baseFile), read(headFile), threshold);
}

async function compareRuns(values: OptionValues, positionals: string[], io: CliIO, threshold: number): Promise<ComparisonReport> {
  if (positionals.length) throw new UsageError('with --cmd, give no baseline files');
  const ref = stringOption(values, 'base');
  const baseCmd = stringOption(values, 'base-cmd');
  if ((ref === undefined) === (baseCmd === undefined)) throw new UsageError('with --cmd, give either --base <git-ref> or --base-cmd "<command>"');
  const roundsRaw = stringOption(values, 'rounds') ?? '5';
  const rounds = Number(roundsRaw);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new UsageError(`--rounds must be an integer from 1 to 50, not ${JSON.stringify(roundsRaw)}`);
  const s = runSettings(values, ROUND_LOAD);
  const cwd = process.cwd();
  const log = (line: string) => io.err(`${line}\n`);
  const checkout = ref !== undefined ? checkoutBase(cwd, ref, log) : undefined;
  try {
    const base = { cmd: baseCmd ?? s.cmd, cwd: checkout?.dir ?? cwd };
    log(`comparing ${ref !== undefined ? `--base ${ref}` : 'the base command'} with this tree: ${rounds} rounds of base, head and A/A…`);
    const result = await runRounds(base, { cmd: s.cmd, cwd }, s, rounds, log);
    const report = compareRounds(result.rounds, threshold);
    const paths = comparedPaths(result.plan);
    if (paths.length) report.paths = paths;
    const skipped = skippedMarkdown(result.plan.skipped);
    if (skipped.length) report.note = skipped.join('\n').trim();
    return report;
  } finally {
    checkout?.remove();
  }
}
