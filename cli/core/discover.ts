/**
 * Finds running agents for the command-line tools the way the extension does
 * (the discovery directory rule of protocol/discovery.ts), reading only the
 * discovery files the current user owns, and never deleting any.
 */
import { userInfo } from 'node:os';
import { type DiscoveredAgent, readDiscovery, resolveDiscoveryDir } from '../../extension/core/discovery';

export interface DiscoverOptions {
  /** Overrides the directory rule (`--discovery-dir`). */
  dir?: string;
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
}

export function currentUid(): number {
  return typeof process.getuid === 'function' ? process.getuid() : userInfo().uid;
}

/** Live agents whose discovery files this user owns, newest first. */
export function discoverAgents(options: DiscoverOptions = {}): Promise<DiscoveredAgent[]> {
  const dir = resolveDiscoveryDir(options.dir, options.env ?? process.env);
  // Windows has no uid to compare (stat reports 0): there the directory's own permissions protect the files.
  const ownerUid = process.platform === 'win32' ? undefined : currentUid();
  return readDiscovery(dir, { ownerUid, removeDead: false, log: options.log });
}
