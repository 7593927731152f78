/**
 * Builds what bench/callgrind.ts and bench/ic.ts run: the current agent bundle and
 * bench/lib/ir-driver.ts bundled to plain JS (so no TypeScript is compiled inside the
 * measured process), plus the variants to run, each with the agent bundle it loads.
 */
import { join, resolve } from 'node:path';
import { prepareAgent } from './adapter';
import { readOptions } from './args';

const RESULTS = join(__dirname, '..', 'results');

export interface DriverSpec {
  /** Shown in the results: the variant, or `<variant>@base` for the agent from `--base`. */
  name: string;
  /** ir-driver.ts's variant: bare | noop | agent-idle | agent-metrics. */
  variant: string;
  /** The agent bundle the driver loads (ROUTELENS_BENCH_AGENT). */
  agent: string;
}

export async function prepareDriver(variants: string[], base: string | undefined): Promise<{ driver: string; specs: DriverSpec[] }> {
  const bundle = join(RESULTS, 'agent-bundle', 'index.js');
  const err = await prepareAgent(bundle);
  if (err) throw new Error(err);
  const driver = join(RESULTS, 'ir-driver.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const esbuild = require('esbuild') as typeof import('esbuild');
  await esbuild.build({ entryPoints: [join(__dirname, 'ir-driver.ts')], outfile: driver, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent', external: ['express', 'esbuild'] });
  const specs: DriverSpec[] = [];
  for (const v of variants) {
    specs.push({ name: v, variant: v, agent: bundle });
    if (v !== 'bare' && v !== 'noop' && base) specs.push({ name: `${v}@base`, variant: v, agent: base });
  }
  return { driver, specs };
}

/** The options every driver tool takes. */
export interface DriverOptions {
  variants: string[];
  /** An earlier agent bundle (`bench/cpu.ts --save-base`): adds `<variant>@base`. */
  base?: string;
  warmup: number;
  requests: number;
}

/**
 * `--variants a,b --base FILE --warmup N --requests N` (default warm-up 3000, variants
 * bare,agent-metrics) plus the tool's own number options, each with its default in `own`.
 */
export function readDriverOptions<K extends string>(argv: string[], tool: string, requests: number, own: Record<K, number>): DriverOptions & Record<K, number> {
  const ownKinds = Object.fromEntries(Object.keys(own).map((k) => [k, 'number' as const]));
  const o = readOptions(argv, { variants: 'string', base: 'string', warmup: 'number', requests: 'number', ...ownKinds }, tool);
  const out: DriverOptions & Record<string, unknown> = {
    variants: String(o.get('variants') ?? 'bare,agent-metrics').split(','),
    base: o.has('base') ? resolve(String(o.get('base'))) : undefined,
    warmup: Number(o.get('warmup') ?? 3000),
    requests: Number(o.get('requests') ?? requests),
  };
  for (const [k, d] of Object.entries(own) as Array<[K, number]>) out[k] = Number(o.get(k) ?? d);
  return out as DriverOptions & Record<K, number>;
}
