/**
 * Where middleware and handler functions are defined, for their spans: looked up through the
 * inspector (express/location.ts) in a batch off the request path, then remembered per function.
 * A span whose function is not located yet goes without a location; later traces have it.
 */
import type { SourceLocation } from '../../protocol';
import { functionLocations } from '../express/location';

type Fn = (...args: never[]) => unknown;

const known = new WeakMap<Fn, SourceLocation | null>();
const queued = new Set<Fn>();
let scheduled = false;

/** The locations of `fns` known so far (undefined entries for others: they are queued). */
export function locateFunctions(fns: readonly unknown[]): Array<SourceLocation | undefined> {
  const out: Array<SourceLocation | undefined> = [];
  for (let i = 0; i < fns.length; i++) {
    const fn = fns[i];
    if (typeof fn !== 'function') {
      out.push(undefined);
      continue;
    }
    const loc = known.get(fn as Fn);
    if (loc === undefined && queued.size < 1000) queued.add(fn as Fn);
    out.push(loc ?? undefined);
  }
  if (queued.size > 0 && !scheduled) {
    scheduled = true;
    setImmediate(lookUp).unref();
  }
  return out;
}

function lookUp(): void {
  scheduled = false;
  const fns = [...queued];
  queued.clear();
  let found: Array<SourceLocation | undefined> = [];
  try {
    found = functionLocations(fns);
  } catch {
    found = [];
  }
  fns.forEach((fn, i) => known.set(fn, found[i] ?? null));
}
