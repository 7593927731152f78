/** `routelens baseline`: starts the app with the agent, drives every route, writes the agent's per-route figures (JSON + Markdown). */
import { basename } from 'node:path';
import type { Command } from '../command';
import { UsageError, stringOption } from '../command';
import { gitInfo } from '../perf/git';
import { measure } from '../perf/measure';
import { RUN_OPTIONS, RUN_OPTIONS_HELP, runSettings, startAndPlan } from '../perf/options';
import { baselineMarkdown, baselineReport, writeJsonAndMarkdown } from '../perf/report';

export const baseline: Command = {
  name: 'baseline',
  summary: "measure every route of your app (started with the agent) and write a baseline (JSON + Markdown)",
  help: [
    'Usage: routelens baseline --cmd "node app.js" --out perf/baseline.json [options]',
    '',
    'Starts the app with the RouteLens agent preloaded, learns its routes from the agent and',
    'drives each: GET/HEAD routes with parameters with the paths the scenario declares, else',
    'those the agent recorded from real traffic (its history), else its slow-request log; other',
    'methods only from the scenario. A paced phase below saturation gives the latency figures,',
    "a short peak phase the throughput; every figure is the agent's own, per route, with a",
    'mergeable latency sketch. --out x.json also writes x.md (a table for a pull request).',
    '',
    '  --out <file.json>       where to write (required)',
    RUN_OPTIONS_HELP,
  ].join('\n'),
  options: { ...RUN_OPTIONS, out: { type: 'string' } },
  async run(values, _positionals, io) {
    const out = stringOption(values, 'out');
    if (!out) throw new UsageError('--out <file.json> is required');
    const s = runSettings(values);
    const cwd = process.cwd();
    const { app, plan } = await startAndPlan(s, cwd);
    try {
      io.err(`driving ${plan.targets.length} route(s) at ${s.load.rate} req/s for ${s.load.seconds} s, then ${s.load.peakSeconds} s at peak…\n`);
      const figures = await measure(app, plan.targets, s.load);
      const report = baselineReport(basename(cwd), figures, s.load, plan, gitInfo(cwd));
      const md = baselineMarkdown(report);
      const mdFile = writeJsonAndMarkdown(out, report, md);
      io.out(md);
      io.err(`baseline written to ${out} and ${mdFile}\n`);
      return 0;
    } finally {
      await app.stop();
    }
  },
};
