/**
 * The bench's one command line: `npm run bench -- [subcommand] [options] [arguments]`.
 * COMMANDS is the table of subcommands and their options; parseArgs reads argv against it
 * (a bad subcommand, option or value throws UsageError); helpText prints it. No side effects,
 * so the parser is unit-tested without running anything.
 */
import { VARIANTS, specOf } from './variants';

export type OptionSpec =
  | { kind: 'flag'; help: string }
  | { kind: 'number'; help: string; default?: number }
  | { kind: 'string'; help: string; arg: string; default?: string }
  | { kind: 'list'; help: string; arg: string; choices: readonly string[]; default?: readonly string[] };

export interface CommandSpec {
  summary: string;
  /** Positional arguments: their name in the help and how many are required (at most `max`). */
  args?: { name: string; min: number; max: number };
  options: Readonly<Record<string, OptionSpec>>;
}

type Value<S extends OptionSpec> = S extends { kind: 'flag' } ? boolean : S extends { kind: 'number' } ? number : S extends { kind: 'list' } ? string[] : string;
type WithDefault<O> = { [K in keyof O]: O[K] extends { default: unknown } ? K : never }[keyof O];
type Values<O extends Readonly<Record<string, OptionSpec>>> = { [K in WithDefault<O>]: Value<O[K]> } & { [K in Exclude<keyof O, WithDefault<O>>]?: Value<O[K]> };

/** A parsed command line, typed by the subcommand it names. */
export type Invocation<T extends Readonly<Record<string, CommandSpec>>> = {
  [C in keyof T & string]: { command: C; options: Values<T[C]['options']>; args: string[] };
}[keyof T & string];

/** A command line the bench cannot run: the message says what is wrong. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const SECTIONS = ['1', '2', '3', '4'] as const;
/** The variants that need no Redis server (the instructions subcommand starts none). */
const LOCAL_VARIANTS = VARIANTS.filter((v) => specOf(v).redis !== true);
/** The variants bench/lib/ic-driver.ts can run. */
const DRIVER_VARIANTS = ['bare', 'noop', 'agent-idle', 'agent-metrics'] as const;

const base = { kind: 'string', arg: 'FILE', help: 'also run every agent variant on the agent bundled in FILE (made by save-base, inside the repository so its dependencies resolve), as <variant>@base' } as const;

export const COMMANDS = {
  suite: {
    summary: 'what the agent costs against bare Express: 1 overhead (servers alternating in 1 s slices, a second reading), 2 cache hits, 3 rate limiter (and its share over express-rate-limit), 4 overhead one server at a time (the verdicts) and main-thread heap; writes bench/results/latest.json',
    options: {
      quick: { kind: 'flag', help: 'smoke run of the bench itself (short phases, 2 rounds, 20k requests for the heap, no A/A)' },
      rounds: { kind: 'number', help: 'rounds of the HTTP sections (default 6; 12 in section 4)' },
      rate: { kind: 'number', help: "requests/s of the paced phase (default 40 % of bare Express's calibrated peak, at most 3000)" },
      only: { kind: 'list', arg: '1,2,3,4', choices: SECTIONS, default: SECTIONS, help: 'the sections to run' },
      aa: { kind: 'flag', help: 'sections 1 and 4 also run a second bare server, bare-b/bare being the noise floor (default on; off with --quick; --no-aa)' },
      profile: { kind: 'flag', help: "CPU profile of each server's paced and peak phases, summarised at the end (bench/results/profiles/)" },
      out: { kind: 'string', arg: 'FILE', default: 'bench/results/latest.json', help: 'where the JSON results go' },
      'heap-requests': { kind: 'number', help: "requests of section 4's heap measurement (default 100000; 20000 with --quick)" },
      variants: { kind: 'list', arg: 'A,B,…', choices: VARIANTS, help: 'more variants for section 4 beside bare, agent, status-monitor, prom-bundle (e.g. agent-spans; bench/lib/variants.ts lists them)' },
    },
  },
  cpu: {
    summary: 'paired A/B of server CPU per request, for "is B cheaper than A": long-lived children, batches in rotating order, median of paired differences',
    options: {
      variants: { kind: 'list', arg: 'A,B,…', choices: VARIANTS, default: ['bare', 'agent-metrics'], help: 'the servers; differences are against the first (a Redis variant, e.g. rl-redis, starts a private redis-server)' },
      base,
      batches: { kind: 'number', default: 30, help: 'rounds of one batch per variant' },
      requests: { kind: 'number', default: 2000, help: 'requests per batch' },
      connections: { kind: 'number', default: 1, help: 'keep-alive connections (1 = strictly sequential)' },
    },
  },
  ic: {
    summary: 'inline-cache misses per request (node --log-ic), by property: repeatable to a tenth of a miss',
    options: {
      variants: { kind: 'list', arg: 'A,B,…', choices: DRIVER_VARIANTS, default: ['bare', 'agent-metrics'], help: 'the apps; differences are against the first' },
      base,
      warmup: { kind: 'number', default: 3000, help: 'requests before the measured ones' },
      requests: { kind: 'number', default: 3000, help: 'measured requests' },
      top: { kind: 'number', default: 25, help: 'properties listed per variant' },
    },
  },
  profile: {
    summary: 'summarises .cpuprofile files (from suite --profile or node --cpu-prof): self time by function and by folder',
    args: { name: 'FILE.cpuprofile…', min: 1, max: Number.POSITIVE_INFINITY },
    options: {
      top: { kind: 'number', default: 25, help: 'functions listed per file' },
      filter: { kind: 'string', arg: 'TEXT', default: '', help: 'only functions whose file:line contains TEXT' },
      callers: { kind: 'string', arg: 'NAME', help: 'instead: the call chains leading to the functions named NAME' },
      depth: { kind: 'number', default: 6, help: 'frames per chain with --callers' },
    },
  },
  heap: {
    summary: "where the agent's main-thread heap goes: bare and agent (and, with --features, one feature off at a time) idle and after many requests over many routes, settled with full collections; --snapshot attributes it by constructor",
    options: {
      routes: { kind: 'number', default: 2000, help: 'routes /r<i>/:id added to the app' },
      checkpoint: { kind: 'number', default: 20_000, help: 'requests of the first reading after idle' },
      requests: { kind: 'number', default: 100_000, help: 'requests of the last reading' },
      rounds: { kind: 'number', default: 1, help: 'children per row (the table shows the median and the spread)' },
      features: { kind: 'flag', help: 'also rows with spans, history, the local server switched off, and an agent without middleware' },
      snapshot: { kind: 'flag', help: 'heap snapshots at the last reading (bench/results/heap/), diffed against bare by constructor' },
      top: { kind: 'number', default: 25, help: 'constructors listed per row with --snapshot' },
      base,
    },
  },
  instructions: {
    summary: 'CPU per request as instructions executed under valgrind\'s callgrind: repeatable whatever the machine\'s load; verdicts against ≤ ×1.03 beside an A/A line, and where the agent\'s instructions go (bench/results/callgrind/)',
    options: {
      variants: { kind: 'list', arg: 'A,B,…', choices: LOCAL_VARIANTS, default: ['bare', 'agent', 'agent-spans', 'status-monitor', 'prom-bundle', 'bare-b'], help: 'the servers, each in its own child per repeat; ratios are against bare, bare-b is the A/A line' },
      repeats: { kind: 'number', default: 2, help: 'children per variant' },
      warmup: { kind: 'number', default: 5000, help: 'requests before counting starts (V8 tiers up)' },
      requests: { kind: 'number', default: 2000, help: 'counted requests' },
      rehearsals: { kind: 'number', default: 1, help: 'times the counted requests are sent before counting, instrumented but uncounted, so clock-driven code tiers up at the windows\' pace' },
      idle: { kind: 'number', default: 10, help: 'seconds of the idle window after the requests (periodic work per second)' },
      pace: { kind: 'number', default: 3, help: 'the counted requests are sent again, taking this many times as long: the work of the clock is told from the work per request by the two paces (1: not sent again; the idle window\'s rate stands in)' },
      rate: { kind: 'number', default: 2000, help: 'requests/s at which the periodic work is spread over requests in the "at N/s" figure' },
      connections: { kind: 'number', default: 1, help: 'keep-alive connections the requests go over (more: requests in flight together, as in section 4\'s 8)' },
      top: { kind: 'number', default: 15, help: 'agent functions listed per window' },
      out: { kind: 'string', arg: 'FILE', default: 'bench/results/instructions.json', help: 'where the JSON results go' },
    },
  },
  'save-base': {
    summary: 'bundles the current agent/ to FILE (e.g. bench/results/base.js), for a later cpu or ic run with --base FILE: old and new code in one run',
    args: { name: 'FILE', min: 1, max: 1 },
    options: {},
  },
} as const satisfies Readonly<Record<string, CommandSpec>>;

export type BenchInvocation = Invocation<typeof COMMANDS>;

/** The subcommand run when argv names none. */
export const DEFAULT_COMMAND = 'suite';

/**
 * Reads argv (after `npm run bench --`) against the command table: an optional subcommand
 * first (else the default), then `--name value` options, `--flag` / `--no-flag`, and the
 * subcommand's positional arguments. `help` when -h or --help appears anywhere.
 */
export function parseArgs<T extends Readonly<Record<string, CommandSpec>>>(argv: readonly string[], commands: T, defaultCommand: keyof T & string): Invocation<T> | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  let rest = argv;
  let command = defaultCommand;
  if (rest[0] !== undefined && !rest[0].startsWith('-')) {
    if (!Object.hasOwn(commands, rest[0])) throw new UsageError(`unknown subcommand '${rest[0]}' (subcommands: ${Object.keys(commands).join(', ')})`);
    command = rest[0];
    rest = rest.slice(1);
  }
  const spec: CommandSpec = commands[command]!;
  const options: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options)) if ('default' in o && o.default !== undefined) options[name] = Array.isArray(o.default) ? [...o.default] : o.default;
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!;
    if (!word.startsWith('-')) {
      args.push(word);
      continue;
    }
    const negated = word.startsWith('--no-');
    const name = word.replace(/^--(no-)?/, '');
    const o = word.startsWith('--') && Object.hasOwn(spec.options, name) ? spec.options[name] : undefined;
    if (!o || (negated && o.kind !== 'flag')) throw new UsageError(`unknown option ${word} for ${command} (its options: ${optionNames(spec)})`);
    if (o.kind === 'flag') {
      options[name] = !negated;
      continue;
    }
    const raw = rest[++i];
    if (raw === undefined || raw.startsWith('--')) throw new UsageError(`${word} needs a value`);
    options[name] = readValue(word, o, raw);
  }
  const want = spec.args ?? { name: '', min: 0, max: 0 };
  if (args.length > want.max) throw new UsageError(`unexpected argument '${args[want.max]}' for ${command}`);
  if (args.length < want.min) throw new UsageError(`${command} needs ${want.name}`);
  return { command, options, args } as Invocation<T>;
}

function readValue(word: string, o: Exclude<OptionSpec, { kind: 'flag' }>, raw: string): number | string | string[] {
  switch (o.kind) {
    case 'number': {
      const v = Number(raw);
      if (!Number.isInteger(v) || v <= 0) throw new UsageError(`${word} needs a whole number above 0, not '${raw}'`);
      return v;
    }
    case 'string':
      return raw;
    case 'list': {
      const items = raw.split(',').filter(Boolean);
      const bad = items.filter((x) => !o.choices.includes(x));
      if (bad.length || !items.length) throw new UsageError(`${word} takes ${o.choices.join(', ')} (comma-separated), not '${raw}'`);
      return items;
    }
  }
}

function optionNames(spec: CommandSpec): string {
  const names = Object.keys(spec.options).map((n) => `--${n}`);
  return names.length ? names.join(' ') : 'none';
}

/** `npm run bench -- --help`: every subcommand with its options. */
export function helpText(commands: Readonly<Record<string, CommandSpec>>, defaultCommand: string): string {
  const lines = ['npm run bench -- [subcommand] [options]       (the same: node --import tsx bench/main.ts …)', '', 'Subcommands:'];
  for (const [name, spec] of Object.entries(commands)) {
    lines.push('', `  ${name}${spec.args ? ` ${spec.args.name}` : ''}${name === defaultCommand ? '   (default)' : ''}`, `      ${spec.summary}`);
    for (const [opt, o] of Object.entries(spec.options)) {
      const arg = o.kind === 'number' ? ' N' : o.kind === 'flag' ? '' : ` ${o.arg}`;
      const dflt = 'default' in o && o.default !== undefined && o.default !== '' ? ` (default ${Array.isArray(o.default) ? o.default.join(',') : String(o.default)})` : '';
      lines.push(`    --${(opt + arg).padEnd(18)} ${o.help}${dflt}`);
    }
  }
  lines.push(
    '',
    'Environment:',
    '  ROUTELENS_BENCH_AGENT   bundle (default: agent/ bundled as npm run build does) | dist (dist/agent, after npm run build) | tsx (the sources) | /path/to/bundle.js',
    '  BENCH_NODE_ARGS         node/V8 flags for the suite\'s and cpu\'s server children, e.g. --trace-gc',
    '',
  );
  return lines.join('\n');
}
