/**
 * Inline-cache misses per request: how many property accesses per request V8 could not serve
 * from its caches and handed to the runtime's slow lookup. Express gives `req` and `res` a new
 * prototype per request, so their inline caches are megamorphic and every property the agent
 * reads or writes on them costs such a miss (about a microsecond on a small VM). Unlike CPU time
 * the count does not depend on what else the machine runs, so it shows a change of one access.
 *
 * `npm run bench -- ic [--variants bare,agent-metrics] [--base FILE] [--warmup N] [--requests N]
 * [--top N]` (options in bench/lib/args.ts).
 *
 * Runs bench/lib/ic-driver.ts under `node --log-ic` twice per variant, with 0 and with
 * `requests` measured requests after the same warm-up; the difference of the two logs over
 * `requests` is the misses of one request. Prints the total per variant and the property names
 * whose count changed most against the first variant (`--top`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BenchInvocation } from './lib/args';
import { prepareDriver } from './lib/driver';
import { table } from './lib/stats';

/** Inline-cache events by property name in one run. */
function icEvents(driver: string, variant: string, agent: string, warmup: number, requests: number): Map<string, number> {
  const log = join(tmpdir(), `routelens-ic-${process.pid}.log`);
  const r = spawnSync(process.execPath, ['--log-ic', `--logfile=${log}`, '--no-logfile-per-isolate', driver, variant, String(warmup), String(requests)], {
    env: { ...process.env, ROUTELENS_BENCH_AGENT: agent },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${variant} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const byKey = new Map<string, number>();
  // LoadIC,pc,time,line,column,old_state,new_state,map,key,modifier,slow_reason
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (!/^(?:Keyed)?(?:Load|Store|DefineKeyedOwn|DefineNamedOwn|StoreInArrayLiteral)(?:Global)?IC,/.test(line)) continue;
    const key = (line.split(',')[8] ?? '?').replace(/ hash [0-9a-f]+/, ''); // a symbol's hash differs per process
    byKey.set(key, (byKey.get(key) ?? 0) + 1);
  }
  rmSync(log, { force: true });
  return byKey;
}

export async function runIc(args: Extract<BenchInvocation, { command: 'ic' }>['options']): Promise<void> {
  const { driver, specs } = await prepareDriver(args.variants, args.base === undefined ? undefined : resolve(args.base));
  const perKey = new Map<string, Map<string, number>>();
  for (const s of specs) {
    const zero = icEvents(driver, s.variant, s.agent, args.warmup, 0);
    const full = icEvents(driver, s.variant, s.agent, args.warmup, args.requests);
    const diff = new Map<string, number>();
    for (const k of new Set([...zero.keys(), ...full.keys()])) diff.set(k, ((full.get(k) ?? 0) - (zero.get(k) ?? 0)) / args.requests);
    perKey.set(s.name, diff);
    process.stderr.write(`  ${s.name}: ${sum(diff).toFixed(1)} misses/request\n`);
  }
  const first = specs[0]!.name;
  const base = sum(perKey.get(first)!);
  const rows = specs.map((s) => {
    const n = sum(perKey.get(s.name)!);
    return [s.name, n.toFixed(1), s.name === first ? '' : `${n >= base ? '+' : ''}${(n - base).toFixed(1)}`];
  });
  process.stdout.write(`inline-cache misses per request (node --log-ic; ${args.warmup} warm-up, ${args.requests} measured)\n` + table(['variant', 'misses', `Δ vs ${first}`], rows) + '\n');
  for (const s of specs.slice(1)) {
    const a = perKey.get(first)!;
    const b = perKey.get(s.name)!;
    const keys = [...new Set([...a.keys(), ...b.keys()])]
      .map((k) => [k, (b.get(k) ?? 0) - (a.get(k) ?? 0)] as const)
      .filter(([, d]) => Math.abs(d) >= 0.05)
      .sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]))
      .slice(0, args.top);
    process.stdout.write(`\n${s.name} vs ${first}, by property (misses per request)\n` + table(['property', 'Δ'], keys.map(([k, d]) => [k.slice(0, 60), `${d >= 0 ? '+' : ''}${d.toFixed(2)}`])) + '\n');
  }
}

function sum(m: Map<string, number>): number {
  let t = 0;
  for (const v of m.values()) t += v;
  return t;
}
