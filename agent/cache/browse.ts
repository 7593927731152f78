/**
 * The key browser and the inspector behind the editor's cache view. Listing
 * pages through L2 with SCAN cursors while Redis answers (a page may hold a
 * few more than `limit` keys), else through L1 with `l1:<offset>` cursors.
 * Inspection shows a value as JSON text cut at 8 KiB, and never throws on it.
 */
import type { CacheKeyInfo, CacheTier } from '../../protocol';
import { invalidOption } from '../errors';
import type { Clock } from '../internal';
import { compileGlob, escapeGlob, validatePattern } from './glob';
import { displayJson } from './json';
import { FAIL, SCAN_COUNT } from './l2';
import { checkKey, namespaceOf } from './options';
import type { Tiers } from './tiers';
import type { CacheInspection } from './types';

const INSPECT_LIMIT = 8 * 1024;

export class KeyBrowser {
  constructor(
    private readonly tiers: Tiers,
    private readonly scanBudget: number,
    private readonly clock: Clock,
  ) {}

  async keys(options: { pattern?: string; cursor?: string; limit?: number } = {}): Promise<{ keys: CacheKeyInfo[]; cursor: string | null }> {
    const pattern = options.pattern ?? '*';
    validatePattern(pattern);
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalidOption('limit', 'an integer from 1 to 1000', limit);
    const cursor = options.cursor ?? '';
    if (typeof cursor !== 'string' || cursor.length > 256) throw invalidOption('cursor', 'a cursor string', cursor);
    if (this.tiers.l2 !== undefined && !cursor.startsWith('l1:')) {
      const fromL2 = await this.keysFromL2(pattern, cursor === '' ? '0' : cursor, limit);
      if (fromL2 !== undefined) return fromL2;
    }
    return this.keysFromL1(pattern, cursor.startsWith('l1:') ? Number(cursor.slice(3)) || 0 : 0, limit);
  }

  private keysFromL1(pattern: string, offset: number, limit: number): { keys: CacheKeyInfo[]; cursor: string | null } {
    const match = compileGlob(pattern);
    const now = this.clock();
    const out: CacheKeyInfo[] = [];
    let seen = 0;
    for (const [key, e] of this.tiers.lru.entries()) {
      if (!match(key)) continue;
      if (seen++ < offset) continue;
      if (out.length === limit) return { keys: out, cursor: `l1:${offset + limit}` };
      out.push({
        key,
        namespace: e.ns.namespace,
        tier: 'l1',
        ttl: e.expiresAt === 0 ? undefined : Math.max(0, e.expiresAt - now),
        size: e.size,
        tags: e.tags,
      });
    }
    return { keys: out, cursor: null };
  }

  private async keysFromL2(pattern: string, cursor: string, limit: number): Promise<{ keys: CacheKeyInfo[]; cursor: string | null } | undefined> {
    const l2 = this.tiers.l2!;
    if (!l2.available()) return undefined;
    if (!/^\d{1,20}$/.test(cursor)) throw invalidOption('cursor', 'a cursor returned by keys()', cursor);
    const match = escapeGlob(this.tiers.dataPrefix) + pattern;
    const deadline = Date.now() + Math.min(this.scanBudget, 1000);
    const found: string[] = [];
    let next = cursor;
    do {
      const page = await l2.run((c) => c.scan(next, 'MATCH', match, 'COUNT', Math.min(SCAN_COUNT, limit)));
      if (page === FAIL) return found.length === 0 && cursor === '0' ? undefined : this.describeL2(found, next === '0' ? null : next);
      next = page[0];
      found.push(...page[1]);
    } while (next !== '0' && found.length < limit && Date.now() < deadline);
    return this.describeL2(found, next === '0' ? null : next);
  }

  private async describeL2(dataKeys: string[], cursor: string | null): Promise<{ keys: CacheKeyInfo[]; cursor: string | null }> {
    const unique = [...new Set(dataKeys)];
    const info = await this.tiers.l2!.run(async (c) => {
      const p = c.pipeline();
      for (const k of unique) p.pttl(k).strlen(k);
      return (await p.exec()) ?? [];
    });
    const keys = unique.map((dataKey, i): CacheKeyInfo => {
      const key = dataKey.slice(this.tiers.dataPrefix.length);
      const ttl = info === FAIL ? undefined : (info[2 * i]?.[1] as number | undefined);
      const size = info === FAIL ? 0 : ((info[2 * i + 1]?.[1] as number | undefined) ?? 0);
      const l1 = this.tiers.lru.peek(key);
      return { key, namespace: namespaceOf(key), tier: l1 ? 'both' : 'l2', ttl: typeof ttl === 'number' && ttl >= 0 ? ttl : undefined, size, tags: l1?.tags };
    });
    return { keys, cursor };
  }

  async inspect(key: string): Promise<CacheInspection | undefined> {
    const bad = checkKey(key);
    if (bad) throw bad;
    const now = this.clock();
    const l1 = this.tiers.lru.peek(key);
    const l1Fresh = l1 !== undefined && this.tiers.classify(l1, now) !== 'dead' && this.tiers.classify(l1, now) !== 'obsolete';
    let entry = l1Fresh ? l1 : undefined;
    let tier: CacheTier | 'both' = 'l1';
    if (this.tiers.l2 !== undefined && this.tiers.l2.available()) {
      const raw = await this.tiers.l2.get(this.tiers.dataPrefix + key);
      if (raw !== FAIL && raw !== null) {
        if (entry !== undefined) tier = 'both';
        else {
          entry = await this.tiers.decode(key, raw, now);
          tier = 'l2';
        }
      }
    }
    if (entry === undefined) return undefined;
    const { text, truncated } = displayJson(entry.value, INSPECT_LIMIT);
    return {
      key,
      value: text,
      truncated,
      size: entry.size,
      ttl: entry.expiresAt === 0 ? undefined : Math.max(0, entry.expiresAt - now),
      tags: entry.tags,
      tier,
    };
  }
}
