/**
 * The source locations the dashboard may open (`openLocation`): only those the
 * agent itself reported in a reply the host forwarded (a trace's spans, a
 * breakdown's operations), or a profile the host posted. Bounded: the oldest
 * are forgotten first. Pure (no vscode).
 */
import type { CommandName, SourceLocation } from '../../protocol';
import { locationKey } from '../core/findings';

export const REPORTED_LOCATIONS_KEPT = 5000;

type WithLocation = { location?: SourceLocation };

export class ReportedLocations {
  private readonly keys = new Set<string>();

  constructor(private readonly max = REPORTED_LOCATIONS_KEPT) {}

  get size(): number {
    return this.keys.size;
  }

  add(loc: SourceLocation | undefined): void {
    if (!loc || typeof loc.file !== 'string' || typeof loc.line !== 'number') return;
    const k = locationKey(loc);
    this.keys.delete(k); // re-added: now the newest
    this.keys.add(k);
    if (this.keys.size > this.max) {
      const oldest = this.keys.values().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
  }

  addAll(items: readonly WithLocation[] | undefined): void {
    for (const i of items ?? []) this.add(i?.location);
  }

  /** Remembers the locations in an agent's reply to a command the dashboard ran. */
  addFromReply(command: CommandName, result: unknown): void {
    if (!result || typeof result !== 'object') return;
    if (command === 'traces.list') {
      for (const t of (result as { traces?: Array<{ spans?: WithLocation[] }> }).traces ?? []) this.addAll(t?.spans);
    } else if (command === 'endpoint.breakdown') {
      this.addAll((result as { top?: WithLocation[] }).top);
    }
  }

  has(loc: SourceLocation): boolean {
    return this.keys.has(locationKey(loc));
  }
}
