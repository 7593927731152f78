/** `routelens smoke`: a short run of every route; fails when one does not answer, answers 5xx beyond the allowed rate, or is too slow. */
import { basename } from 'node:path';
import type { Command } from '../command';
import { UsageError, stringOption } from '../command';
import { gitInfo } from '../perf/git';
import { measure } from '../perf/measure';
import { RUN_OPTIONS, RUN_OPTIONS_HELP, runSettings, startAndPlan } from '../perf/options';
import { writeJsonAndMarkdown } from '../perf/report';
import { smokeMarkdown, smokeReport } from '../perf/smoke';

const SMOKE_LOAD = { seconds: 3, rate: 50, peakSeconds: 0, warmupSeconds: 1 };

export const smoke: Command = {
  name: 'smoke',
  summary: 'a performance smoke test for CI: every route answers, without 5xx, within thresholds',
  help: [
    'Usage: routelens smoke --cmd "node app.js" [--max-p95 MS] [--max-error-rate R] [--out report.json] [options]',
    '',
    'Starts the app with the agent, drives every known route briefly and checks, per route:',
    'it answered, its share of 5xx answers is at most --max-error-rate, its p95 at most --max-p95.',
    'Exits 1 listing the routes that failed. Routes that cannot be driven are listed, not failed.',
    '',
    '  --max-p95 <ms>          the slowest p95 allowed (default: no limit)',
    '  --max-error-rate <r>    the share of 5xx answers allowed, 0–1 (default 0: none)',
    '  --out <file.json>       write the report (and file.md beside it)',
    RUN_OPTIONS_HELP,
    `  (defaults here: --duration ${SMOKE_LOAD.seconds}, --rate ${SMOKE_LOAD.rate}, --peak ${SMOKE_LOAD.peakSeconds}, --warmup ${SMOKE_LOAD.warmupSeconds})`,
  ].join('\n'),
  options: { ...RUN_OPTIONS, 'max-p95': { type: 'string' }, 'max-error-rate': { type: 'string' }, out: { type: 'string' } },
  async run(values, _positionals, io) {
    const maxP95 = limit(stringOption(values, 'max-p95'), 'max-p95', Infinity, Infinity);
    const maxErrorRate = limit(stringOption(values, 'max-error-rate'), 'max-error-rate', 0, 1);
    const s = runSettings(values, SMOKE_LOAD);
    const cwd = process.cwd();
    const { app, plan } = await startAndPlan(s, cwd);
    try {
      const figures = await measure(app, plan.targets, s.load);
      const report = smokeReport(basename(cwd), figures, plan, { maxP95, maxErrorRate }, gitInfo(cwd));
      const md = smokeMarkdown(report);
      const out = stringOption(values, 'out');
      if (out) writeJsonAndMarkdown(out, report, md);
      io.out(md);
      const failed = report.routes.filter((r) => !r.ok);
      if (failed.length) io.err(`routelens smoke: ${failed.length} route(s) failed: ${failed.map((r) => `${r.id} (${r.problems.join('; ')})`).join(', ')}\n`);
      return failed.length ? 1 : 0;
    } finally {
      await app.stop();
    }
  },
};

function limit(raw: string | undefined, name: string, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || v < 0 || v > max) throw new UsageError(`--${name} must be a number from 0${Number.isFinite(max) ? ` to ${max}` : ''}, not ${JSON.stringify(raw)}`);
  return v;
}
