/**
 * An L1 entry and how fresh it is. The same shape is built from a `set`, a
 * load, or an L2 read (see envelope.ts for how it is stored in Redis).
 */
import type { CacheTier } from '../../protocol';
import type { NamespaceCounts } from './stats';
import type { TagStamps } from './tags';

export interface Entry {
  value: unknown;
  size: number;
  /** Logical expiry (epoch ms), 0 = never. */
  expiresAt: number;
  /** End of grace, 0 = never. */
  staleUntil: number;
  /** L1 backstop (epoch ms), 0 = none. */
  l1Until: number;
  /** When the value was produced (a load's start): older than a tag's invalidation = missing. */
  createdAt: number;
  tags: string[] | undefined;
  ns: NamespaceCounts;
  hits: number;
}

/** The best entry a lookup found, the tier it came from, and whether it is past its ttl (within grace). */
export interface Found {
  entry: Entry;
  tier: CacheTier;
  stale: boolean;
}

/**
 * fresh: serve it. stale: past its ttl, within grace. dead: past grace.
 * backstop: fresh but past its L1 copy's `l1Until` (ask L2 first). obsolete: produced before its tag was invalidated.
 */
export type Freshness = 'fresh' | 'stale' | 'dead' | 'backstop' | 'obsolete';

export function classify(e: Entry, now: number, stamps: TagStamps): Freshness {
  if (e.tags !== undefined && stamps.obsoletes(e)) return 'obsolete';
  if (e.expiresAt !== 0 && now >= e.expiresAt) return e.staleUntil !== 0 && now < e.staleUntil ? 'stale' : 'dead';
  if (e.l1Until !== 0 && now >= e.l1Until) return 'backstop';
  return 'fresh';
}

/** Fresh and usable in L1 right now (the hot path's check: no allocation). */
export function freshInL1(e: Entry, now: number, stamps: TagStamps): boolean {
  return (e.expiresAt === 0 || now < e.expiresAt) && (e.l1Until === 0 || now < e.l1Until) && (e.tags === undefined || !stamps.obsoletes(e));
}
