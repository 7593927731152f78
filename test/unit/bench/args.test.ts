/** The bench's command line (bench/lib/args.ts) and its entry point's exit codes (bench/main.ts). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { COMMANDS, DEFAULT_COMMAND, UsageError, helpText, parseArgs } from '../../../bench/lib/args';

const parse = (...argv: string[]) => parseArgs(argv, COMMANDS, DEFAULT_COMMAND);
const ROOT = join(__dirname, '..', '..', '..');

describe('bench command line: parseArgs', () => {
  it('with no subcommand runs the suite with its defaults', () => {
    assert.deepEqual(parse(), { command: 'suite', options: { only: ['1', '2', '3', '4'], out: 'bench/results/latest.json' }, args: [] });
    const quick = parse('--quick', '--only', '1,3', '--rounds', '5', '--no-aa');
    assert.deepEqual(quick, { command: 'suite', options: { quick: true, only: ['1', '3'], rounds: 5, aa: false, out: 'bench/results/latest.json' }, args: [] });
  });

  it('reads a subcommand, its options with their defaults, and its positional arguments', () => {
    assert.deepEqual(parse('cpu', '--variants', 'bare,agent-idle', '--base', 'b.js'), {
      command: 'cpu',
      options: { variants: ['bare', 'agent-idle'], base: 'b.js', batches: 30, requests: 2000, connections: 1 },
      args: [],
    });
    assert.deepEqual(parse('profile', 'a.cpuprofile', 'b.cpuprofile', '--callers', 'begin'), {
      command: 'profile',
      options: { top: 25, filter: '', depth: 6, callers: 'begin' },
      args: ['a.cpuprofile', 'b.cpuprofile'],
    });
    assert.deepEqual(parse('save-base', 'bench/results/base.js'), { command: 'save-base', options: {}, args: ['bench/results/base.js'] });
  });

  it('answers help for -h or --help anywhere', () => {
    assert.equal(parse('--help'), 'help');
    assert.equal(parse('cpu', '-h'), 'help');
    assert.equal(parse('bogus', '--help'), 'help');
  });

  const refused: Array<[string[], RegExp]> = [
    [['bogus'], /^unknown subcommand 'bogus' \(subcommands: suite, cpu, ic, profile, heap, instructions, save-base\)$/],
    [['toString'], /^unknown subcommand 'toString'/],
    [['--bogus'], /^unknown option --bogus for suite \(its options: --quick --rounds/],
    [['cpu', '--rounds', '3'], /^unknown option --rounds for cpu/],
    [['cpu', '--no-variants'], /^unknown option --no-variants for cpu/],
    [['save-base', '--quick', 'f.js'], /^unknown option --quick for save-base \(its options: none\)$/],
    [['-q'], /^unknown option -q for suite/],
    [['--rounds'], /^--rounds needs a value$/],
    [['--rounds', '--quick'], /^--rounds needs a value$/],
    [['--rounds', '0'], /^--rounds needs a whole number above 0, not '0'$/],
    [['--rate', '1.5'], /^--rate needs a whole number above 0, not '1\.5'$/],
    [['--rate', 'fast'], /^--rate needs a whole number above 0/],
    [['--only', '1,5'], /^--only takes 1, 2, 3, 4 \(comma-separated\), not '1,5'$/],
    [['cpu', '--variants', 'bare,nope'], /^--variants takes bare, bare-b, .*, rl-redis, erl-memory, erl-redis \(comma-separated\), not 'bare,nope'$/],
    [['ic', '--variants', 'agent'], /^--variants takes bare, noop, agent-idle, agent-metrics/],
    [['suite', 'extra'], /^unexpected argument 'extra' for suite$/],
    [['save-base'], /^save-base needs FILE$/],
    [['save-base', 'a.js', 'b.js'], /^unexpected argument 'b\.js' for save-base$/],
    [['profile'], /^profile needs FILE\.cpuprofile…$/],
  ];
  for (const [argv, message] of refused) {
    it(`refuses ${argv.join(' ') || '(nothing)'} with a UsageError that says why`, () => {
      assert.throws(() => parse(...argv), (err: unknown) => err instanceof UsageError && message.test(err.message));
    });
  }

  it('the help lists every subcommand and every option', () => {
    const text = helpText(COMMANDS, DEFAULT_COMMAND);
    for (const [name, spec] of Object.entries(COMMANDS)) {
      assert.match(text, new RegExp(`^  ${name}\\b`, 'm'), name);
      for (const opt of Object.keys(spec.options)) assert.ok(text.includes(`--${opt}`), `${name} --${opt}`);
    }
    assert.match(text, /^ {2}suite {3}\(default\)$/m);
  });
});

describe('bench entry point (npm run bench)', () => {
  it('exits 2 with the reason and a pointer to --help on a command line it cannot read, running nothing', function () {
    this.timeout(30_000);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'main.ts'), 'bogus', '--quick'], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, "bench: unknown subcommand 'bogus' (subcommands: suite, cpu, ic, profile, heap, instructions, save-base)\nSee npm run bench -- --help for the subcommands and their options.\n");
    assert.equal(r.stdout, '');
  });
});
