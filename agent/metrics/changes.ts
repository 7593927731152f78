/**
 * Which endpoints changed, as revisions that any number of readers read
 * without consuming. A change is stamped with the open revision; a read
 * closes it (`seal()`), so whatever changes after a read gets a higher number.
 * A reader keeps the revision of its previous read and asks for what changed
 * after it.
 *
 * Marking an endpoint that already changed in the open revision is one
 * comparison (it happens per aggregated sample). The log holds one entry per
 * (endpoint, revision) and is compacted to one entry per endpoint when it
 * outgrows the endpoints; removed ids are kept up to a bound (a reader that
 * falls further behind resyncs from a snapshot).
 */
import type { Endpoint } from './endpoint';

export class EndpointChanges {
  /** Revision that changes made now get. */
  private open = 1;
  private endpoints: Endpoint[] = [];
  private revisions: number[] = [];
  private compactAt = 64;
  private removedIds: string[] = [];
  private removedRevisions: number[] = [];

  constructor(private readonly maxRemoved: number) {}

  /** Records that `ep`'s figures or description changed. */
  touch(ep: Endpoint): void {
    if (ep.revision === this.open) return;
    ep.revision = this.open;
    this.endpoints.push(ep);
    this.revisions.push(this.open);
    if (this.endpoints.length > this.compactAt) this.compact();
  }

  /** Records that an endpoint was removed (a reset of an endpoint without a registration). */
  remove(id: string): void {
    this.removedIds.push(id);
    this.removedRevisions.push(this.open);
    if (this.removedIds.length > this.maxRemoved) {
      const keep = this.maxRemoved >> 1;
      this.removedIds = this.removedIds.slice(-keep);
      this.removedRevisions = this.removedRevisions.slice(-keep);
    }
  }

  /** Closes the open revision and returns it: every change so far is at or below it, every later one above. */
  seal(): number {
    return this.open++;
  }

  /** Endpoints (not removed) changed after revision `since`, each once, oldest change first. */
  changedSince(since: number): Endpoint[] {
    const out: Endpoint[] = [];
    for (let i = this.revisions.length - 1; i >= 0; i--) {
      const revision = this.revisions[i]!;
      if (revision <= since) break;
      const ep = this.endpoints[i]!;
      // An endpoint changed again later has a later entry; only that one counts.
      if (ep.revision === revision && !ep.removed) out.push(ep);
    }
    return out.reverse();
  }

  /** Ids removed after revision `since` (each once; the caller drops the ones that exist again). */
  removedSince(since: number): string[] {
    const out = new Set<string>();
    for (let i = this.removedRevisions.length - 1; i >= 0 && this.removedRevisions[i]! > since; i--) out.add(this.removedIds[i]!);
    return [...out];
  }

  private compact(): void {
    const endpoints: Endpoint[] = [];
    const revisions: number[] = [];
    for (let i = 0; i < this.endpoints.length; i++) {
      const ep = this.endpoints[i]!;
      if (ep.revision !== this.revisions[i] || ep.removed) continue;
      endpoints.push(ep);
      revisions.push(ep.revision);
    }
    this.endpoints = endpoints;
    this.revisions = revisions;
    this.compactAt = 2 * endpoints.length + 64;
  }
}
