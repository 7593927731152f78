/**
 * The invalidation messages instances exchange on the pub/sub channel. They
 * carry what to drop (keys, a pattern, a tag), never a value. On the wire the
 * fields keep their one- and two-letter names: instances of two versions share
 * the channel during a rolling restart, and a renamed field would be a lost
 * invalidation on the older side. The code reads and writes them only here,
 * through `PeerInvalidation`'s readable names.
 *
 * | wire | PeerInvalidation | meaning                                                          |
 * | ---- | ---------------- | ---------------------------------------------------------------- |
 * | `i`  | `sender`         | the sender's instance id (a receiver ignores its own), required  |
 * | `k`  | `keys`           | keys to drop from L1                                              |
 * | `p`  | `pattern`        | a glob: drop the L1 keys it matches                               |
 * | `t`  | `tag`            | a tag: drop its L1 entries and stamp it                          |
 * | `ts` | `tagStamp`       | when the tag was invalidated (epoch ms); absent: when received    |
 * | `c`  | `clearAll`       | `1`: drop all of L1 (understood; no version sends it yet)         |
 * | `e`  | `event`          | `{ by, target }`: show an invalidation event (source `peer`)      |
 */
import type { CacheEvent } from '../../protocol';

export type InvalidationBy = NonNullable<CacheEvent['invalidation']>['by'];

export interface PeerInvalidation {
  sender: string;
  keys?: string[];
  pattern?: string;
  tag?: string;
  tagStamp?: number;
  clearAll?: boolean;
  event?: { by: InvalidationBy; target: string };
}

interface PeerMessage {
  i: string;
  k?: string[];
  p?: string;
  t?: string;
  ts?: number;
  c?: 1;
  e?: { by: InvalidationBy; target: string };
}

export function encodePeerMessage(m: PeerInvalidation): string {
  const wire: PeerMessage = { i: m.sender, k: m.keys, p: m.pattern, t: m.tag, ts: m.tagStamp, c: m.clearAll ? 1 : undefined, e: m.event };
  return JSON.stringify(wire);
}

/**
 * A message from the channel, or undefined when it is not one (not JSON, no
 * sender). Fields of the wrong type are left out; the pattern is not validated
 * here (the receiver does, and treats a refused one as a lost message).
 */
export function decodePeerMessage(text: string): PeerInvalidation | undefined {
  let m: PeerMessage;
  try {
    m = JSON.parse(text) as PeerMessage;
  } catch {
    return undefined;
  }
  if (m === null || typeof m !== 'object' || typeof m.i !== 'string') return undefined;
  return {
    sender: m.i,
    keys: Array.isArray(m.k) ? m.k.filter((k) => typeof k === 'string') : undefined,
    pattern: typeof m.p === 'string' ? m.p : undefined,
    tag: typeof m.t === 'string' ? m.t : undefined,
    tagStamp: typeof m.ts === 'number' ? m.ts : undefined,
    clearAll: m.c === 1,
    event: m.e && typeof m.e === 'object' && typeof m.e.target === 'string' ? { by: m.e.by, target: m.e.target } : undefined,
  };
}
