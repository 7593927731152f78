/** `routelens report`: the executive summary of one agent, as Markdown or JSON. */
import { writeFile } from 'node:fs/promises';
import { AGENT_OPTIONS, AGENT_OPTIONS_HELP, type Command, UsageError, stringOption } from '../command';
import { createCliContext } from '../core/context';
import { buildSummary } from '../core/summary';
import { summaryMarkdown } from '../core/summaryMarkdown';

export const report: Command = {
  name: 'report',
  summary: 'write the executive summary of an agent (Markdown or JSON)',
  help: [
    'Usage: routelens report [--format md|json] [--agent <pid|name>] [--out <file>]',
    '',
    'Writes the executive summary of a running app: status, health score and reasons,',
    'key metrics, firing alerts, slowest routes and recommendations. For a pull request or a chat.',
    '',
    '  --format md|json        default md',
    '  --out <file>            write to this file instead of standard output',
    AGENT_OPTIONS_HELP,
  ].join('\n'),
  options: { ...AGENT_OPTIONS, format: { type: 'string', default: 'md' }, out: { type: 'string' } },
  async run(values, _positionals, io) {
    const format = stringOption(values, 'format');
    if (format !== 'md' && format !== 'json') throw new UsageError(`--format must be md or json, not ${JSON.stringify(format)}`);
    const ctx = createCliContext({ dir: stringOption(values, 'discovery-dir'), env: io.env });
    const source = await ctx.source(stringOption(values, 'agent'));
    const summary = buildSummary(await source.snapshot());
    const text = format === 'md' ? summaryMarkdown(summary) : `${JSON.stringify(summary, null, 2)}\n`;
    const out = stringOption(values, 'out');
    if (out) {
      await writeFile(out, text);
      io.err(`report written to ${out}\n`);
    } else io.out(text);
    return 0;
  },
};
