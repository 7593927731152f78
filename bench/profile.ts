/**
 * Summarises V8 .cpuprofile files (from `npm run bench -- --profile`, or any
 * `node --cpu-prof` run): self time per function, heaviest first, with its
 * file and line, and the share of time spent in each top-level folder.
 *
 *   node --import tsx bench/profile.ts FILE.cpuprofile [--top 25] [--filter agent/]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionCost {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

export function summarise(profile: CpuProfile, root = process.cwd()): { totalMs: number; functions: FunctionCost[]; byArea: Record<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  const fns = new Map<string, FunctionCost>();
  const byArea: Record<string, number> = {};
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    total += us;
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const file = url ? relative(root, url) : '(native)';
    const name = n.callFrame.functionName || '(anonymous)';
    const where = url ? `${file}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${name}@${where}`;
    const f = fns.get(key) ?? { name, where, selfMs: 0, share: 0 };
    f.selfMs += us / 1000;
    fns.set(key, f);
    const area = !url ? name.startsWith('(') ? name : '(native)' : file.startsWith('node_modules/') ? `node_modules/${file.split('/')[1]}` : file.startsWith('node:') ? 'node:internal' : file.split('/')[0]!;
    byArea[area] = (byArea[area] ?? 0) + us / 1000;
  }
  const functions = [...fns.values()].sort((a, b) => b.selfMs - a.selfMs);
  for (const f of functions) f.share = f.selfMs / (total / 1000);
  return { totalMs: total / 1000, functions, byArea };
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const top = args.includes('--top') ? Number(args[args.indexOf('--top') + 1]) : 25;
  const filter = args.includes('--filter') ? args[args.indexOf('--filter') + 1]! : '';
  for (const file of args.filter((a, i) => a.endsWith('.cpuprofile') && args[i - 1] !== '--filter')) {
    const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    process.stdout.write(`\n${file}: ${s.totalMs.toFixed(0)} ms sampled\n`);
    const areas = Object.entries(s.byArea).sort((a, b) => b[1] - a[1]).slice(0, 12);
    process.stdout.write(`  by area: ${areas.map(([a, ms]) => `${a} ${((ms / s.totalMs) * 100).toFixed(1)}%`).join(', ')}\n`);
    for (const f of s.functions.filter((x) => x.where.includes(filter)).slice(0, top)) {
      process.stdout.write(`  ${(f.share * 100).toFixed(2).padStart(6)}%  ${f.selfMs.toFixed(1).padStart(8)} ms  ${f.name}  ${f.where}\n`);
    }
  }
}
