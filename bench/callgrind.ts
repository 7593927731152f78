/**
 * Instructions per request under valgrind's callgrind: repeatable where CPU time on a shared
 * machine is not, so a change of a few hundred instructions on the request path shows.
 *
 *   node --import tsx bench/callgrind.ts [--variants bare,agent-metrics] [--base FILE]
 *                                        [--warmup 3000] [--requests 2000] [--runs 2]
 *
 * bench/lib/ir-driver.ts (bundled with esbuild to plain JS, together with the current agent
 * bundle) runs the section-1 app and its client in one process: `warmup` requests, then
 * `requests` more, sequentially. Each variant runs under callgrind twice per run, once with
 * 0 and once with `requests` measured requests; the difference of the two totals divided by
 * `requests` is the cost of one request in instructions (Ir), start-up and warm-up cancelled.
 * The client's share is the same in every variant, so differences between variants are the
 * agent's. The driver runs the agent with its timers off (a run lasts about 50 times longer under
 * valgrind, and timer work is per wall second). Caveat: a mark-compact or a burst of compiling
 * that falls inside one variant's measured requests and not the other's moves a 2,000-request
 * figure by 10 % or more (docs/performance.md); use large `--requests` for small differences. `--base FILE` adds `agent-metrics@base` (a bundle from `bench/cpu.ts --save-base`).
 * Slow: about a minute per valgrind run.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDriver, readDriverOptions } from './lib/driver';
import { median, table } from './lib/stats';

/** Total Ir of one callgrind run. */
function instructions(driver: string, variant: string, agent: string, warmup: number, requests: number): number {
  const out = join(tmpdir(), `routelens-callgrind-${process.pid}.out`);
  const r = spawnSync(
    'valgrind',
    ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', '--max-semi-space-size=16', driver, variant, String(warmup), String(requests)],
    { env: { ...process.env, ROUTELENS_BENCH_AGENT: agent }, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`valgrind ${variant} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const m = /^(?:summary|totals):\s*(\d+)/m.exec(readFileSync(out, 'utf8'));
  rmSync(out, { force: true });
  if (!m) throw new Error('no totals in the callgrind output');
  return Number(m[1]);
}

async function main(): Promise<void> {
  const args = readDriverOptions(process.argv.slice(2), 'bench/callgrind.ts', 2000, { runs: 2 });
  const { driver, specs } = await prepareDriver(args.variants, args.base);
  const perRequest = new Map<string, number[]>(specs.map((s) => [s.name, []]));
  for (let run = 0; run < args.runs; run++) {
    for (const s of specs) {
      const zero = instructions(driver, s.variant, s.agent, args.warmup, 0);
      const full = instructions(driver, s.variant, s.agent, args.warmup, args.requests);
      const ir = (full - zero) / args.requests;
      perRequest.get(s.name)!.push(ir);
      process.stderr.write(`  run ${run + 1} ${s.name}: ${Math.round(ir)} Ir/request\n`);
    }
  }
  const base = median(perRequest.get(specs[0]!.name)!);
  const rows = specs.map((s) => {
    const v = perRequest.get(s.name)!;
    const m = median(v);
    return [s.name, Math.round(m).toString(), v.map((x) => Math.round(x)).join(' '), s.name === specs[0]!.name ? '' : `${m >= base ? '+' : ''}${Math.round(m - base)} (${(((m - base) / base) * 100).toFixed(1)} %)`];
  });
  process.stdout.write(`instructions per request (callgrind; ${args.warmup} warm-up, ${args.requests} measured, ${args.runs} run(s))\n` + table(['variant', 'median Ir', 'runs', `Δ vs ${specs[0]!.name}`], rows) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
