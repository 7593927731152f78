/**
 * The agent's cost with one server loaded at a time, in a steady state: what a
 * server under sustained load pays. `npm run bench` alternates every server in
 * 1 s slices, so each one idles three slices out of four while the others are
 * loaded (and V8 shrinks an idle heap); this tool asks whether that design
 * moves the figures (docs/performance.md, "GC, and servers measured one at a
 * time").
 *
 *   node --import tsx bench/steady.ts [--variants bare,agent-metrics,agent,bare-b]
 *                                     [--rounds 6] [--rate 1500] [--paced-ms 10000]
 *
 * Per round, each variant in turn (order reversed every other round): a fresh
 * server child (bench/server.ts; `agent` with a stream client attached),
 * 4 s of warm-up at the fixed rate, then `paced-ms` at the fixed rate (server
 * CPU per request, from the child's own process.cpuUsage()), then 4 s closed
 * loop (peak throughput, and CPU per request there). Prints the median over rounds of each variant's
 * ratio to the first one; `bare-b` is the A/A noise floor.
 */
import { startServer, stopServer } from './http';
import { readOptions } from './lib/args';
import { prepareAgent } from './lib/adapter';
import { median, table } from './lib/stats';
import { LOCAL_VARIANTS, type Variant } from './lib/variants';

const WARM_MS = 4000;
const PEAK_MS = 4000;
/** Keep-alive connections of the load generator, as in `npm run bench`. */
const CONNECTIONS = 8;

async function measure(variant: Variant, rate: number, pacedMs: number): Promise<{ cpu: number; peak: number; peakCpu: number }> {
  const server = await startServer(variant, { connections: CONNECTIONS }, variant === 'agent');
  const { child, load } = server;
  try {
    await load.run({ durationMs: WARM_MS, rate, maxRequests: Math.ceil((rate * WARM_MS) / 1000) });
    const c0 = await child.cpuUs();
    const paced = await load.run({ durationMs: pacedMs, rate, maxRequests: Math.ceil((rate * pacedMs) / 1000) });
    const c1 = await child.cpuUs();
    const peak = await load.run({ durationMs: PEAK_MS });
    const c2 = await child.cpuUs();
    if (paced.errors > 0 || peak.errors > 0) throw new Error(`${variant}: ${paced.errors + peak.errors} errors`);
    return { cpu: (c1 - c0) / paced.responses, peak: (peak.responses / peak.elapsedMs) * 1000, peakCpu: (c2 - c1) / peak.responses };
  } finally {
    await stopServer(server);
  }
}

async function main(): Promise<void> {
  const o = readOptions(process.argv.slice(2), { variants: 'string', rounds: 'number', rate: 'number', 'paced-ms': 'number' }, 'bench/steady.ts');
  const variants = String(o.get('variants') ?? 'bare,agent-metrics,agent,bare-b').split(',') as Variant[];
  for (const v of variants) if (!LOCAL_VARIANTS.includes(v)) throw new Error(`unknown or unsupported variant ${v}`);
  const rounds = Number(o.get('rounds') ?? 6);
  const rate = Number(o.get('rate') ?? 1500);
  const pacedMs = Number(o.get('paced-ms') ?? 10_000);
  const err = await prepareAgent();
  if (err) throw new Error(err);

  const ratios = new Map(variants.map((v) => [v, { cpu: [] as number[], peak: [] as number[], peakCpu: [] as number[] }]));
  for (let r = 0; r < rounds; r++) {
    const got = new Map<Variant, { cpu: number; peak: number; peakCpu: number }>();
    for (const v of r % 2 ? [...variants].reverse() : variants) got.set(v, await measure(v, rate, pacedMs));
    const base = got.get(variants[0]!)!;
    process.stdout.write(`round ${r + 1}: ${variants.map((v) => `${v} ${got.get(v)!.cpu.toFixed(1)} µs/req, ${got.get(v)!.peak.toFixed(0)} req/s (${got.get(v)!.peakCpu.toFixed(1)} µs/req)`).join(' · ')}\n`);
    for (const v of variants) {
      ratios.get(v)!.cpu.push(got.get(v)!.cpu / base.cpu);
      ratios.get(v)!.peak.push(got.get(v)!.peak / base.peak);
      ratios.get(v)!.peakCpu.push(got.get(v)!.peakCpu / base.peakCpu);
    }
  }
  const range = (a: number[]) => `${Math.min(...a).toFixed(2)}–${Math.max(...a).toFixed(2)}`;
  const rows = variants.slice(1).map((v) => {
    const x = ratios.get(v)!;
    return [v, median(x.cpu).toFixed(3), range(x.cpu), median(x.peak).toFixed(3), range(x.peak), median(x.peakCpu).toFixed(3)];
  });
  process.stdout.write(
    `\n${rounds} rounds, one server at a time; CPU per request at ${rate} req/s over ${pacedMs / 1000} s, peak over ${PEAK_MS / 1000} s; ratios to ${variants[0]}\n` +
      table(['variant', 'CPU/req', 'rounds', 'peak', 'rounds', 'CPU/req at peak'], rows) +
      '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
