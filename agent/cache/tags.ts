/**
 * Tag invalidation timestamps, in process. An entry produced before its tag's
 * last invalidation (for getOrSet, the time its loader started) counts as
 * missing, so a load racing an invalidation cannot bring the old value back.
 * Peers receive the timestamp with the invalidation message. The map is capped:
 * past `MAX_TAG_STAMPS` tags the least recently stamped is forgotten.
 */
const MAX_TAG_STAMPS = 10_000;

export class TagStamps {
  private readonly stamps = new Map<string, number>();

  /** Records that `tag` was invalidated at `ts` (epoch ms). */
  stamp(tag: string, ts: number): void {
    this.stamps.delete(tag);
    this.stamps.set(tag, ts);
    if (this.stamps.size > MAX_TAG_STAMPS) {
      const oldest = this.stamps.keys().next().value;
      if (oldest !== undefined) this.stamps.delete(oldest);
    }
  }

  /** True when one of the entry's tags was invalidated after the entry was produced. Free while no tag was ever invalidated. */
  obsoletes(e: { tags: string[] | undefined; createdAt: number }): boolean {
    if (e.tags === undefined || this.stamps.size === 0) return false;
    for (const t of e.tags) {
      const stamp = this.stamps.get(t);
      if (stamp !== undefined && stamp > e.createdAt) return true;
    }
    return false;
  }

  clear(): void {
    this.stamps.clear();
  }
}

/**
 * The tag the response cache puts on every response it stores for a route
 * template (`/users/:id`), so `invalidateRoute` can drop them all. It has no
 * `|`, so it never equals a path tag (`<namespace>|<path>`).
 */
export function routeTag(template: string): string {
  return `@route ${template}`;
}
