/**
 * The `routelens` command line. Each subcommand is one file in cli/commands/
 * and one entry in COMMANDS; options are parsed with node:util parseArgs.
 *   routelens --help | routelens <command> [options] | routelens <command> --help
 */
import { parseArgs } from 'node:util';
import { type CliIO, type Command, UsageError } from './command';
import { agents } from './commands/agents';
import { baseline } from './commands/baseline';
import { compare } from './commands/compare';
import { mcp } from './commands/mcp';
import { report } from './commands/report';
import { smoke } from './commands/smoke';
import { NoAgentError } from './core/source';
import { CLI_VERSION } from './version';

export const COMMANDS: readonly Command[] = [agents, report, mcp, baseline, compare, smoke];

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    `routelens ${CLI_VERSION}: live performance figures of a Node/Express app, from its RouteLens agent`,
    '',
    'Usage: routelens <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `routelens <command> --help` for its options.',
  ].join('\n');
}

/** Runs one command line; resolves to the exit code (0 ok, 1 failed, 2 usage error). */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${CLI_VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`routelens: unknown command ${JSON.stringify(name)}\n\n${usage()}\n`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: command.positionals === true });
    if (values.help) {
      io.out(`${command.help}\n`);
      return 0;
    }
    return await command.run(values, positionals, io);
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`routelens ${name}: ${(err as Error).message}\n\n${command.help}\n`);
      return 2;
    }
    if (err instanceof NoAgentError) {
      io.err(`routelens ${name}: ${err.message}\n`);
      return 1;
    }
    io.err(`routelens ${name}: ${(err as Error)?.message ?? String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  const io: CliIO = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}
