/**
 * `routelens compare --cmd … --base <ref>`: base and head alternate over rounds of fresh
 * processes, with an A/A pair (the base twice) in every round. Each round starts the three
 * apps, measures them one after another (the order rotating from round to round, so a drift
 * of the machine spreads over all three) and stops them. Verdicts come from the per-round
 * ratios head/base; the A/A ratios say how much the machine alone moves a figure.
 */
import { RunningApp } from './app';
import { type LoadSettings, type RouteFigures, measure } from './measure';
import type { RunSettings } from './options';
import { METRICS, type ComparisonReport, type RouteComparison } from './report';
import { planApp } from './paths';
import type { Plan, Scenario } from './scenario';
import { roundsChange } from './stats';

export interface Side {
  cmd: string;
  cwd: string;
}

type Role = 'base' | 'head' | 'aa';
const ORDERS: Role[][] = [
  ['base', 'head', 'aa'],
  ['head', 'aa', 'base'],
  ['aa', 'base', 'head'],
];

export type RoundFigures = Record<Role, RouteFigures[]>;

/**
 * The plan is made once, from the head's agent in the first round: the head's recorded paths
 * (the base's checkout has no history of its own) drive both sides in every round, so both
 * sides always answer the same requests.
 */
export async function runRounds(base: Side, head: Side, s: RunSettings, rounds: number, log: (line: string) => void): Promise<{ rounds: RoundFigures[]; plan: Plan }> {
  const out: RoundFigures[] = [];
  let plan: Plan | undefined;
  for (let r = 0; r < rounds; r++) {
    const sides: Record<Role, Side> = { base, head, aa: base };
    const started = await Promise.allSettled((['base', 'head', 'aa'] as const).map((role) => start(sides[role], s, role)));
    const apps = started.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
    try {
      const failed = started.find((x) => x.status === 'rejected');
      if (failed) throw failed.reason;
      const [b, h, a] = apps as [RunningApp, RunningApp, RunningApp];
      plan ??= await planApp(h.http, s.scenario, s.scenarioFile);
      const byRole: Record<Role, RunningApp> = { base: b, head: h, aa: a };
      const figures: Partial<RoundFigures> = {};
      for (const role of ORDERS[r % ORDERS.length]!) figures[role] = await measure(byRole[role], plan.targets, s.load);
      out.push(figures as RoundFigures);
      log(`round ${r + 1}/${rounds} done`);
    } finally {
      await Promise.all(apps.map((a) => a.stop()));
    }
  }
  return { rounds: out, plan: plan ?? { targets: [], skipped: [] } };
}

function start(side: Side, s: RunSettings, label: string): Promise<RunningApp> {
  return RunningApp.start({ cmd: side.cmd, cwd: side.cwd, startTimeoutMs: s.startTimeoutMs, preload: s.preload, label, ...(s.port !== undefined ? { port: s.port } : {}) });
}

/** Per route and metric: the median of the per-round ratios, its interval and verdict, against the A/A noise. */
export function compareRounds(rounds: readonly RoundFigures[], threshold: number): ComparisonReport {
  const ids = new Set<string>();
  for (const r of rounds) for (const f of r.head) if (f.count > 0) ids.add(f.id);
  const baseIds = new Set<string>();
  for (const r of rounds) for (const f of r.base) if (f.count > 0) baseIds.add(f.id);
  const routes: RouteComparison[] = [];
  for (const id of [...ids].filter((x) => baseIds.has(x)).sort()) {
    const metrics = {} as RouteComparison['metrics'];
    for (const m of METRICS) {
      const ratios: number[] = [];
      const aa: number[] = [];
      for (const r of rounds) {
        const b = r.base.find((f) => f.id === id)?.[m];
        const h = r.head.find((f) => f.id === id)?.[m];
        const a = r.aa.find((f) => f.id === id)?.[m];
        if (b && b > 0 && h !== undefined) ratios.push(h / b);
        if (b && b > 0 && a !== undefined) aa.push(a / b);
      }
      metrics[m] = roundsChange(ratios, aa, threshold, m === 'rps');
    }
    routes.push({ id, verdict: metrics.p95.verdict, metrics });
  }
  return {
    threshold,
    method: 'rounds',
    rounds: rounds.length,
    routes,
    onlyBase: [...baseIds].filter((x) => !ids.has(x)).sort(),
    onlyHead: [...ids].filter((x) => !baseIds.has(x)).sort(),
  };
}

export type { LoadSettings, Scenario };
