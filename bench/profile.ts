/**
 * Summarises V8 .cpuprofile files (from `npm run bench -- --profile`, or any
 * `node --cpu-prof` run): self time per function, heaviest first, with its
 * file and line, and the share of time spent in each top-level folder.
 *
 *   npm run bench -- profile FILE.cpuprofile… [--top 25] [--filter agent/]
 *   npm run bench -- profile FILE.cpuprofile… --callers FUNCTION_NAME [--depth 6]
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { SourceMapConsumer } from 'source-map-js';
import type { BenchInvocation } from './lib/args';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
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

/** Maps bundled positions back to sources with the bundle's .map file (the bench's agent bundle has one). */
function sourceMapper(root: string): (url: string, line: number, column: number) => { file: string; line: number } | undefined {
  const maps = new Map<string, SourceMapConsumer | undefined>();
  return (url, line, column) => {
    if (!url.endsWith('.js')) return undefined;
    if (!maps.has(url)) {
      const mapFile = `${url}.map`;
      maps.set(url, existsSync(mapFile) ? new SourceMapConsumer(JSON.parse(readFileSync(mapFile, 'utf8'))) : undefined);
    }
    const consumer = maps.get(url);
    if (!consumer) return undefined;
    const pos = consumer.originalPositionFor({ line: line + 1, column });
    if (!pos.source) return undefined;
    return { file: relative(root, resolve(dirname(url), pos.source)), line: pos.line ?? 0 };
  };
}

/** Drops the bench's own profiler traffic (node:inspector) from a profile's samples. */
function inspectorNodes(profile: CpuProfile): Set<number> {
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Set<number>();
  for (const n of profile.nodes) {
    for (let cur: number | undefined = n.id; cur !== undefined; cur = parent.get(cur)) {
      if (byId.get(cur)!.callFrame.url === 'node:inspector') {
        out.add(n.id);
        break;
      }
    }
  }
  return out;
}

export function summarise(profile: CpuProfile, root = process.cwd()): { totalMs: number; functions: FunctionCost[]; byArea: Record<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const skip = inspectorNodes(profile);
  const map = sourceMapper(root);
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    if (skip.has(id)) continue;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  let total = 0;
  const fns = new Map<string, FunctionCost>();
  const byArea: Record<string, number> = {};
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    total += us;
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const mapped = url ? map(url, n.callFrame.lineNumber, n.callFrame.columnNumber ?? 0) : undefined;
    const file = mapped ? mapped.file : url ? relative(root, url) : '(native)';
    const name = n.callFrame.functionName || '(anonymous)';
    const where = mapped ? `${mapped.file}:${mapped.line}` : url ? `${file}:${n.callFrame.lineNumber + 1}` : '';
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

/**
 * Where a variant spends more CPU than its baseline: self time per request
 * (µs) of each function, variant minus baseline, largest increase first.
 * Functions are matched by name and file (line numbers differ between builds).
 */
export function diffPerRequest(
  base: ReturnType<typeof summarise>,
  baseRequests: number,
  variant: ReturnType<typeof summarise>,
  variantRequests: number,
): { busyUsPerRequest: { baseline: number; variant: number }; functions: Array<{ name: string; where: string; deltaUs: number; variantUs: number }> } {
  const key = (f: FunctionCost) => `${f.name}@${f.where.replace(/:\d+$/, '')}`;
  const perReq = (fns: FunctionCost[], n: number) => {
    const m = new Map<string, { name: string; where: string; us: number }>();
    for (const f of fns) {
      if (f.name === '(idle)' || f.name === '(program)') continue;
      const k = key(f);
      const e = m.get(k) ?? { name: f.name, where: f.where.replace(/:\d+$/, ''), us: 0 };
      e.us += (f.selfMs * 1000) / Math.max(1, n);
      m.set(k, e);
    }
    return m;
  };
  const b = perReq(base.functions, baseRequests);
  const v = perReq(variant.functions, variantRequests);
  const busy = (m: Map<string, { us: number }>) => [...m.values()].reduce((a, e) => a + e.us, 0);
  const functions = [...new Set([...b.keys(), ...v.keys()])]
    .map((k) => {
      const e = v.get(k) ?? b.get(k)!;
      return { name: e.name, where: e.where, deltaUs: (v.get(k)?.us ?? 0) - (b.get(k)?.us ?? 0), variantUs: v.get(k)?.us ?? 0 };
    })
    .sort((x, y) => y.deltaUs - x.deltaUs);
  return { busyUsPerRequest: { baseline: busy(b), variant: busy(v) }, functions };
}

/** Self time of the functions named `name`, grouped by their chain of callers (innermost first). */
export function callers(profile: CpuProfile, name: string, depth = 6): Array<{ chain: string; ms: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const out = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const n = byId.get(profile.samples[i]!)!;
    if (n.callFrame.functionName !== name) continue;
    const chain: string[] = [];
    for (let cur: number | undefined = n.id, k = 0; cur !== undefined && k < depth; cur = parent.get(cur), k++) {
      const f = byId.get(cur)!.callFrame;
      chain.push(`${f.functionName || '(anonymous)'}${f.url ? ` (${f.url.split('/').slice(-2).join('/')})` : ''}`);
    }
    const key = chain.join(' ← ');
    out.set(key, (out.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  return [...out].map(([chain, ms]) => ({ chain, ms })).sort((a, b) => b.ms - a.ms);
}

/** `npm run bench -- profile FILE…`: each file's summary, or with --callers the chains leading to one function. */
export function runProfile(files: string[], o: Extract<BenchInvocation, { command: 'profile' }>['options']): void {
  const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  for (const file of files) {
    if (o.callers !== undefined) {
      process.stdout.write(`\n${file}: callers of ${o.callers}\n`);
      for (const c of callers(read(file), o.callers, o.depth).slice(0, 10)) process.stdout.write(`${c.ms.toFixed(1).padStart(8)} ms  ${c.chain}\n`);
      continue;
    }
    const s = summarise(read(file));
    process.stdout.write(`\n${file}: ${s.totalMs.toFixed(0)} ms sampled\n`);
    const areas = Object.entries(s.byArea).sort((a, b) => b[1] - a[1]).slice(0, 12);
    process.stdout.write(`  by area: ${areas.map(([a, ms]) => `${a} ${((ms / s.totalMs) * 100).toFixed(1)}%`).join(', ')}\n`);
    for (const f of s.functions.filter((x) => x.where.includes(o.filter)).slice(0, o.top)) {
      process.stdout.write(`  ${(f.share * 100).toFixed(2).padStart(6)}%  ${f.selfMs.toFixed(1).padStart(8)} ms  ${f.name}  ${f.where}\n`);
    }
  }
}
