/**
 * Cache warmers: named functions that return entries to write (sync or async),
 * run on demand (`warm(name)`, the editor's "warm" command) or at start. Each
 * entry goes through the ordinary `set`; a bad entry is an error event, not a
 * failed run. At most MAX_WARM_ENTRIES entries per run.
 */
import { RouteLensError } from '../errors';
import { truncate } from '../text';
import { checkKey } from './options';
import type { CacheTelemetry } from './telemetry';
import type { Tiers } from './tiers';
import type { SetOptions, WarmEntry, Warmer } from './types';

const MAX_WARM_ENTRIES = 100_000;

export class Warmers {
  constructor(
    private readonly warmers: Map<string, Warmer>,
    private readonly set: (key: string, value: unknown, options?: SetOptions) => Promise<void>,
    private readonly tiers: Tiers,
    private readonly telemetry: CacheTelemetry,
  ) {}

  names(): string[] {
    return [...this.warmers.keys()];
  }

  async warm(name: string): Promise<{ name: string; loaded: number }> {
    const warmer = this.warmers.get(name);
    if (warmer === undefined) throw new RouteLensError('ROUTELENS_ERR_NOT_FOUND', `no cache warmer named "${truncate(String(name), 64, '')}"`);
    let entries: Iterable<WarmEntry>;
    try {
      entries = await warmer();
    } catch (err) {
      throw new RouteLensError('ROUTELENS_ERR_LOADER', `cache warmer "${name}" failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    let loaded = 0;
    let seen = 0;
    for (const item of entries) {
      if (++seen > MAX_WARM_ENTRIES || this.tiers.closed) break;
      if (!Array.isArray(item) || checkKey(item[0]) !== undefined) {
        this.telemetry.error(`warmer "${name}" produced an invalid entry`, undefined);
        continue;
      }
      try {
        await this.set(item[0], item[1], item[2]);
        loaded++;
      } catch (err) {
        this.telemetry.error(err instanceof Error ? err.message : String(err), item[0]);
      }
    }
    return { name, loaded };
  }
}
