/**
 * Batch reads and writes: `getMany` serves what L1 holds and asks L2 for the
 * rest in one MGET; `setMany` validates every entry first, writes L1, then
 * sends every L2 write and one PUBLISH (all the keys) in one pipeline. Both go
 * through the same bounded call and circuit breaker as single reads and writes
 * (l2.ts): with Redis down, slow or flapping, getMany answers from L1 (a miss
 * where L1 has nothing) and setMany's keys are remembered for the cleanup
 * when Redis is back. Neither ever rejects for a Redis failure.
 */
import { invalidOption } from '../errors';
import type { Clock } from '../internal';
import type { Found } from './entry';
import { FAIL } from './l2';
import { checkKey } from './options';
import { encodePeerMessage } from './peers';
import type { CacheTelemetry } from './telemetry';
import type { L1State, Prepared, Tiers } from './tiers';
import type { CacheEntry } from './types';

/** Most keys (or entries) per batch call: one MGET or pipeline stays well inside a command budget. */
export const MAX_BATCH = 10_000;

export class Batch {
  constructor(
    private readonly tiers: Tiers,
    private readonly telemetry: CacheTelemetry,
    private readonly instanceId: string,
    private readonly clock: Clock,
    /** Called with every key read (the preload tracker's hit accounting). */
    private readonly onRead: ((key: string, now: number) => void) | undefined,
  ) {}

  async getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
    if (!Array.isArray(keys) || keys.length > MAX_BATCH) throw invalidOption('keys', `an array of at most ${MAX_BATCH} keys`, keys);
    for (const key of keys) {
      const bad = checkKey(key);
      if (bad) throw bad;
    }
    const now = this.clock();
    const out = new Array<T | undefined>(keys.length).fill(undefined);
    /** Keys L1 cannot answer, with what it held and where they go in `out`. */
    const rest = new Map<string, { s: L1State; at: number[] }>();
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const waiting = rest.get(key);
      if (waiting !== undefined) {
        waiting.at.push(i);
        continue;
      }
      const s = this.tiers.l1State(key, now);
      if (s.fresh !== undefined) {
        out[i] = this.served<T>(key, s.fresh, now);
        continue;
      }
      rest.set(key, { s, at: [i] });
    }
    if (rest.size === 0) return out;
    const found = await this.fromL2(rest, now);
    for (const [key, { at }] of rest) {
      const f = found.get(key);
      for (const i of at) {
        if (f !== undefined && !f.stale) out[i] = this.served<T>(key, f, now);
        else this.telemetry.miss(key, now);
      }
    }
    return out;
  }

  private served<T>(key: string, f: Found, now: number): T {
    this.telemetry.hit(key, f.entry, f.tier, now);
    this.onRead?.(key, now);
    return f.entry.value as T;
  }

  /** One MGET for the keys L1 could not answer; on any L2 failure, what L1 held. */
  private async fromL2(rest: Map<string, { s: L1State }>, now: number): Promise<Map<string, Found | undefined>> {
    const found = new Map<string, Found | undefined>();
    const l2 = this.tiers.l2;
    const keys = [...rest.keys()];
    const seq = this.tiers.seq;
    const raws = l2 !== undefined && l2.available() ? await l2.mget(keys.map((k) => this.tiers.dataPrefix + k)) : FAIL;
    for (let j = 0; j < keys.length; j++) {
      const { s } = rest.get(keys[j])!;
      found.set(keys[j], raws === FAIL ? this.tiers.fallback(s) : await this.tiers.fromL2(keys[j], raws[j] ?? null, now, true, seq, s, undefined));
    }
    return found;
  }

  async setMany(entries: readonly CacheEntry[]): Promise<void> {
    if (!Array.isArray(entries) || entries.length > MAX_BATCH) throw invalidOption('entries', `an array of at most ${MAX_BATCH} [key, value, options?] entries`, entries);
    const now = this.clock();
    const prepared: Prepared[] = [];
    for (const item of entries) {
      if (!Array.isArray(item)) throw invalidOption('entries', 'an array of [key, value, options?] entries', item);
      const [key, value, options] = item;
      const bad = checkKey(key);
      if (bad) throw bad;
      if (options !== undefined && (options === null || typeof options !== 'object')) throw invalidOption('options', 'an object', options);
      prepared.push(this.tiers.prepare(key, value, options ?? {}, now, undefined));
    }
    const toL2: Prepared[] = [];
    for (const p of prepared) if (this.tiers.writeL1(p) !== undefined) toL2.push(p);
    const l2 = this.tiers.l2;
    if (toL2.length === 0 || l2 === undefined) return;
    const writes = [];
    for (const p of toL2) {
      const encoded = this.tiers.payload(p);
      writes.push({ key: this.tiers.dataPrefix + p.key, payload: Buffer.isBuffer(encoded) ? encoded : await encoded, px: p.px, tagKeys: this.tiers.tagKeys(p.entry.tags) });
    }
    const message = encodePeerMessage({ sender: this.instanceId, keys: toL2.map((p) => p.key) });
    const ok = await l2.setMany(writes, message);
    for (let i = 0; i < writes.length; i++) if (ok === FAIL || !ok[i]) this.tiers.failed(writes[i].key);
  }
}
