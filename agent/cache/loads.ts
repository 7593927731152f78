/**
 * getOrSet's loads: one loader run per key at a time in this process (single
 * flight), and the background refresh of a stale value within grace
 * (stale-while-revalidate). A failed load serves the stale value when there is
 * one; a loaded value that cannot be cached is still returned.
 */
import { RouteLensError } from '../errors';
import { cacheSpan } from '../spans/cache';
import type { Clock } from '../internal';
import type { Found } from './entry';
import { truncate } from '../text';
import { checkTtl } from './options';
import type { CacheTelemetry } from './telemetry';
import type { Tiers } from './tiers';
import type { GetOrSetOptions } from './types';

export type Loader<T> = () => T | Promise<T>;

export class Loads {
  private readonly flights = new Map<string, Promise<unknown>>();
  /** Told of every loader call (the preloader's share bound). */
  onLoaderCall: ((now: number) => void) | undefined;

  constructor(
    private readonly tiers: Tiers,
    private readonly telemetry: CacheTelemetry,
    private readonly clock: Clock,
  ) {}

  /** Per-key single flight: concurrent callers share one loader run. `stale`: the value to fall back on if the loader fails. */
  load<T>(key: string, loader: Loader<T>, options: GetOrSetOptions, stale: Found | undefined): Promise<T> {
    let flight = this.flights.get(key) as Promise<T> | undefined;
    if (flight === undefined) {
      flight = this.run(key, loader, options, stale).finally(() => this.flights.delete(key));
      this.flights.set(key, flight);
    }
    return flight;
  }

  /** Refreshes a stale value in the background (at most one run per key, joined to any load in flight). */
  refresh<T>(key: string, loader: Loader<T>, options: GetOrSetOptions, stale: Found): void {
    void this.load(key, loader, options, stale).catch(() => {});
  }

  /** A load of this key is in flight. */
  loading(key: string): boolean {
    return this.flights.has(key);
  }

  clear(): void {
    this.flights.clear();
  }

  private async run<T>(key: string, loader: Loader<T>, options: GetOrSetOptions, stale: Found | undefined): Promise<T> {
    const createdAt = this.clock();
    const started = performance.now();
    const route = this.telemetry.route()?.route;
    this.onLoaderCall?.(createdAt);
    let value: T;
    try {
      value = await cacheSpan('load', key, false, loader);
    } catch (err) {
      this.telemetry.loadFailed(key, err instanceof Error ? err.message : String(err));
      const fallback = stale ?? (await this.tiers.lookup(key, this.clock(), false));
      if (fallback !== undefined) return fallback.entry.value as T;
      throw new RouteLensError('ROUTELENS_ERR_LOADER', `cache loader for "${truncate(key, 128, '')}" failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    this.telemetry.loaded(key, performance.now() - started, route);
    if (value === undefined) return value;
    try {
      if (!this.tiers.closed) await this.tiers.store(key, value, options, createdAt, checkTtl('grace', options.grace));
    } catch (err) {
      // Not cacheable (cyclic, BigInt, too big): the caller still gets its value.
      this.telemetry.error(err instanceof Error ? err.message : String(err), key);
    }
    return value;
  }
}
