/**
 * Invalidation by key, pattern or tag, and namespace clears: L1 first, then
 * Redis by cursor sweeps (SCAN for patterns, SSCAN over a tag's set), UNLINK
 * page by page within `scanBudget`, never KEYS; then the message to peers.
 * A sweep that runs out of time or meets a Redis failure reports `partial`.
 */
import type { Redis } from 'ioredis';
import type { InvalidateResult } from '../../protocol';
import { invalidOption } from '../errors';
import type { Clock, CommandSource } from '../internal';
import { escapeGlob, validatePattern } from './glob';
import { FAIL, SCAN_COUNT } from './l2';
import { checkKey, MAX_TAG_LENGTH } from './options';
import type { PeerInvalidation } from './peers';
import type { CacheTelemetry } from './telemetry';
import type { Tiers } from './tiers';
import type { InvalidateOptions, InvalidateTarget } from './types';

export class Invalidations {
  constructor(
    private readonly tiers: Tiers,
    private readonly telemetry: CacheTelemetry,
    private readonly instanceId: string,
    private readonly scanBudget: number,
    private readonly clock: Clock,
  ) {}

  async invalidate(target: InvalidateTarget, options: InvalidateOptions = {}): Promise<InvalidateResult> {
    if (target === null || typeof target !== 'object') throw invalidOption('target', 'one of { key }, { pattern } or { tag }', target);
    const given = (['key', 'pattern', 'tag'] as const).filter((k) => (target as Record<string, unknown>)[k] !== undefined);
    if (given.length !== 1) throw invalidOption('target', 'exactly one of { key }, { pattern } or { tag }', target);
    const dryRun = options.dryRun === true;
    const source = options.source ?? 'app';
    let result: InvalidateResult;
    let by: 'key' | 'pattern' | 'tag';
    let targetText: string;
    if ('key' in target && target.key !== undefined) {
      const bad = checkKey(target.key);
      if (bad) throw bad;
      by = 'key';
      targetText = target.key;
      result = dryRun ? { removed: (await this.tiers.has(target.key)) ? 1 : 0, dryRun } : { removed: (await this.tiers.removeKey(target.key, { by, target: targetText })) ? 1 : 0, dryRun };
    } else if ('pattern' in target && target.pattern !== undefined) {
      validatePattern(target.pattern);
      by = 'pattern';
      targetText = target.pattern;
      result = await this.removePattern(target.pattern, dryRun, { by, target: targetText });
    } else {
      const tag = (target as { tag: unknown }).tag;
      if (typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG_LENGTH) throw invalidOption('tag', `a non-empty string of at most ${MAX_TAG_LENGTH} characters`, tag);
      by = 'tag';
      targetText = tag;
      result = await this.removeTag(tag, dryRun);
    }
    if (!dryRun) this.telemetry.invalidated(by, targetText, source, result.removed);
    return result;
  }

  async clearNamespace(namespace: string, options: { dryRun?: boolean; source?: CommandSource } = {}): Promise<InvalidateResult> {
    if (typeof namespace !== 'string' || namespace.length > 512) throw invalidOption('namespace', 'a string of at most 512 characters', namespace);
    const dryRun = options.dryRun === true;
    const by = namespace === '' ? 'clear' : 'namespace';
    const pattern = namespace === '' ? '*' : `${escapeGlob(namespace)}:*`;
    const result = await this.removePattern(pattern, dryRun, { by, target: namespace === '' ? '*' : namespace });
    // Clearing everything also drops the tag sets and the local tag stamps (nothing is left to tag).
    if (namespace === '' && !dryRun) {
      this.tiers.tags.clear();
      if (this.tiers.l2 !== undefined) await this.scan(`${escapeGlob(this.tiers.tagPrefix)}*`, false);
    }
    if (!dryRun) this.telemetry.invalidated(by, namespace === '' ? '*' : namespace, options.source ?? 'app', result.removed);
    return result;
  }

  private async removePattern(pattern: string, dryRun: boolean, event: PeerInvalidation['event']): Promise<InvalidateResult> {
    const l1 = this.tiers.removeL1Matching(pattern, dryRun);
    if (this.tiers.l2 === undefined) return { removed: l1, dryRun };
    const { count, partial } = await this.scan(escapeGlob(this.tiers.dataPrefix) + pattern, dryRun);
    // Published after L2 is cleaned, so a peer that drops its L1 copy cannot re-read the old value from L2.
    if (!dryRun) await this.tiers.publish({ sender: this.instanceId, pattern, event });
    return partial ? { removed: Math.max(count, l1), dryRun, partial } : { removed: count, dryRun };
  }

  /** SCAN MATCH with a bounded COUNT, UNLINK per batch, stopped at the time box. Never KEYS. */
  private scan(match: string, dryRun: boolean): Promise<{ count: number; partial: boolean }> {
    return this.sweep((c, cursor) => c.scan(cursor, 'MATCH', match, 'COUNT', SCAN_COUNT), dryRun, async (keys) => keys.length);
  }

  /**
   * Walks a cursor (SCAN or SSCAN) page by page: UNLINKs each page, or counts it
   * for a dry run, until the cursor returns to 0, a call fails or `scanBudget` runs out (partial).
   */
  private async sweep(
    page: (c: Redis, cursor: string) => Promise<[cursor: string, keys: string[]]>,
    dryRun: boolean,
    countDry: (keys: string[]) => Promise<number | typeof FAIL>,
  ): Promise<{ count: number; partial: boolean }> {
    const l2 = this.tiers.l2!;
    const deadline = Date.now() + this.scanBudget;
    let cursor = '0';
    let count = 0;
    do {
      if (Date.now() > deadline) return { count, partial: true };
      const at = cursor;
      const result = await l2.run((c) => page(c, at));
      if (result === FAIL) return { count, partial: true };
      cursor = result[0];
      if (result[1].length === 0) continue;
      const n = dryRun ? await countDry(result[1]) : await l2.unlink(result[1]);
      if (n === FAIL) return { count, partial: true };
      count += n;
    } while (cursor !== '0');
    return { count, partial: false };
  }

  private async removeTag(tag: string, dryRun: boolean): Promise<InvalidateResult> {
    const hits: string[] = [];
    for (const [key, e] of this.tiers.lru.entries()) if (e.tags?.includes(tag) && !this.tiers.tags.obsoletes(e)) hits.push(key);
    const l1 = hits.length;
    if (!dryRun) {
      // The stamp travels with the message, so a peer treats anything produced before it as missing even if it re-reads L2 before the UNLINKs land.
      const ts = this.clock();
      this.tiers.tags.stamp(tag, ts);
      for (const key of hits) this.tiers.lru.delete(key);
      if (this.tiers.l2 !== undefined) await this.tiers.publish({ sender: this.instanceId, tag, tagStamp: ts, event: { by: 'tag', target: tag } });
    }
    if (this.tiers.l2 === undefined) return { removed: l1, dryRun };
    const l2 = this.tiers.l2;
    const setKey = this.tiers.tagPrefix + tag;
    const { count, partial } = await this.sweep((c, cursor) => c.sscan(setKey, cursor, 'COUNT', SCAN_COUNT), dryRun, (keys) => l2.run((c) => c.exists(...keys)));
    if (partial) return { removed: Math.max(count, l1), dryRun, partial };
    if (!dryRun) await l2.unlink([setKey]);
    return { removed: count, dryRun };
  }
}
