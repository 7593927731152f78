/**
 * `npm run bench -- [subcommand] [options]`: the bench's one entry point (run through tsx, no
 * build needed). `npm run bench -- --help` lists the subcommands (bench/lib/args.ts); with none,
 * it runs `suite`. A command line it cannot read exits 2 with the reason; a crash exits 1.
 */
import { assertNever } from '../protocol';
import { runCpu, saveBase } from './cpu';
import { runHeapCommand } from './heap';
import { runIc } from './ic';
import { runInstructions } from './instructions';
import { COMMANDS, DEFAULT_COMMAND, UsageError, helpText, parseArgs } from './lib/args';
import { runProfile } from './profile';
import { runSuite } from './suite';

async function main(argv: string[]): Promise<void> {
  const run = parseArgs(argv, COMMANDS, DEFAULT_COMMAND);
  if (run === 'help') {
    process.stdout.write(helpText(COMMANDS, DEFAULT_COMMAND));
    return;
  }
  switch (run.command) {
    case 'suite':
      return runSuite(run.options);
    case 'cpu':
      return runCpu(run.options);
    case 'heap':
      return runHeapCommand(run.options);
    case 'ic':
      return runIc(run.options);
    case 'instructions':
      return runInstructions(run.options);
    case 'profile':
      return runProfile(run.args, run.options);
    case 'save-base':
      return saveBase(run.args[0]!);
    default:
      return assertNever(run, 'bench subcommand');
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`bench: ${err.message}\nSee npm run bench -- --help for the subcommands and their options.\n`);
    process.exit(2);
  }
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
