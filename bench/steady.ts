/**
 * Section 4 of `npm run bench` on its own, with its own variants: the agent's
 * cost with one server loaded at a time, in a steady state (bench/http.ts's
 * runSteady; docs/performance.md, "GC, and servers measured one at a time").
 *
 *   node --import tsx bench/steady.ts [--variants bare,agent-metrics,agent,bare-b]
 *                                     [--rounds 6] [--rate 1500] [--paced-ms 10000]
 *
 * Prints the median over rounds of each variant's ratio to the first one;
 * `bare-b` is the A/A noise floor.
 */
import { compare, runSteady } from './http';
import { readOptions } from './lib/args';
import { prepareAgent } from './lib/adapter';
import { fmt, fmtRange, table } from './lib/stats';
import { localVariants } from './lib/variants';

async function main(): Promise<void> {
  const o = readOptions(process.argv.slice(2), { variants: 'string', rounds: 'number', rate: 'number', 'paced-ms': 'number' }, 'bench/steady.ts');
  const variants = localVariants(String(o.get('variants') ?? 'bare,agent-metrics,agent,bare-b'));
  const settings = {
    rounds: Number(o.get('rounds') ?? 6),
    rate: Number(o.get('rate') ?? 1500),
    warmupMs: 4000,
    pacedMs: Number(o.get('paced-ms') ?? 10_000),
    peakMs: 4000,
    connections: 8,
    log: (line: string) => process.stdout.write(line + '\n'),
  };
  const err = await prepareAgent();
  if (err) throw new Error(err);
  const results = await runSteady(variants, settings);
  const rows = variants.slice(1).map((v) => {
    const c = compare(results, variants[0]!, v);
    return [v, fmt(c.cpuRatio, 3), fmtRange(c.cpuRange), fmt(c.peakRatio, 3), fmtRange(c.peakRange), fmt(c.peakCpuRatio, 3)];
  });
  process.stdout.write(
    `\n${settings.rounds} rounds, one server at a time; CPU per request at ${settings.rate} req/s over ${settings.pacedMs / 1000} s, peak over ${settings.peakMs / 1000} s; ratios to ${variants[0]}\n` +
      table(['variant', 'CPU/req', 'rounds', 'peak', 'rounds', 'CPU/req at peak'], rows) +
      '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
