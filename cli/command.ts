/**
 * A `routelens` subcommand: one file in cli/commands/ exporting a Command, and
 * one entry in COMMANDS (cli/index.ts). Options are parsed with node:util
 * parseArgs (strict) from `options`; `--help` is handled for every command.
 */
import type { ParseArgsConfig } from 'node:util';

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

export type OptionValues = Record<string, string | boolean | undefined>;

export interface Command {
  name: string;
  /** One line, for `routelens --help`. */
  summary: string;
  /** Usage and options, for `routelens <name> --help`. */
  help: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Takes arguments besides its options (`compare base.json head.json`); any other command refuses them. */
  positionals?: boolean;
  /** Resolves to the exit code. */
  run(values: OptionValues, positionals: string[], io: CliIO): Promise<number>;
}

/** Options every agent-reading command takes. */
export const AGENT_OPTIONS = {
  agent: { type: 'string' },
  'discovery-dir': { type: 'string' },
} as const satisfies Command['options'];

export const AGENT_OPTIONS_HELP = [
  '  --agent <pid|name>      only this agent (default: the newest running one)',
  '  --discovery-dir <dir>   where agents write their discovery files (default: $ROUTELENS_DISCOVERY_DIR, else $XDG_RUNTIME_DIR/routelens, else <tmpdir>/routelens-<uid>)',
].join('\n');

/** A usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
