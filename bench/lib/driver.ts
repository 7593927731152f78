/**
 * Builds what bench/ic.ts runs: the current agent bundle and
 * bench/lib/ic-driver.ts bundled to plain JS (so no TypeScript is compiled inside the
 * measured process), plus the variants to run, each with the agent bundle it loads.
 */
import { join } from 'node:path';
import { prepareAgent } from './adapter';

const RESULTS = join(__dirname, '..', 'results');

export interface DriverSpec {
  /** Shown in the results: the variant, or `<variant>@base` for the agent from `--base`. */
  name: string;
  /** ic-driver.ts's variant: bare | noop | agent-idle | agent-metrics. */
  variant: string;
  /** The agent bundle the driver loads (ROUTELENS_BENCH_AGENT). */
  agent: string;
}

export async function prepareDriver(variants: string[], base: string | undefined): Promise<{ driver: string; specs: DriverSpec[] }> {
  const bundle = join(RESULTS, 'agent-bundle', 'index.js');
  const err = await prepareAgent(bundle);
  if (err) throw new Error(err);
  const driver = join(RESULTS, 'ic-driver.js');
   
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({ entryPoints: [join(__dirname, 'ic-driver.ts')], outfile: driver, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent', external: ['express', 'esbuild'] });
  const specs: DriverSpec[] = [];
  for (const v of variants) {
    specs.push({ name: v, variant: v, agent: bundle });
    if (v !== 'bare' && v !== 'noop' && base) specs.push({ name: `${v}@base`, variant: v, agent: base });
  }
  return { driver, specs };
}
