/**
 * An app's namespace in Redis: the default prefix of its cache keys, of its
 * limiters' counters and of its invalidation channel. Derived from the app's
 * name, so two apps on one Redis never read, list or delete each other's
 * entries, while the instances of one app (same name) share theirs.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Longest app name kept in the namespace (the prefix options allow 200–256 characters). */
const MAX_NAME_IN_NAMESPACE = 100;

/**
 * `routelens:<name>:`, with every character outside `A-Z a-z 0-9 . _ - @ /`
 * written as `_`: no `:` (one app's namespace is never the start of another's)
 * and no glob characters (the namespace is used verbatim in SCAN patterns).
 */
export function appNamespace(appName: string): string {
  const safe = appName.slice(0, MAX_NAME_IN_NAMESPACE).replace(/[^A-Za-z0-9._@/-]/g, '_');
  return `routelens:${safe || 'app'}:`;
}

/**
 * The name an agent takes when none is given: ROUTELENS_NAME, else the name in
 * ./package.json, else the folder's name. `createCache()` without an agent
 * uses it, so a standalone cache shares its keys with the agent's.
 */
export function defaultAppName(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return env.ROUTELENS_NAME || packageName(cwd);
}

/** The name in `cwd`'s package.json, else the folder's name. */
export function packageName(cwd: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { name?: unknown };
    if (typeof pkg.name === 'string' && pkg.name) return pkg.name;
  } catch {
    /* no package.json: fall back to the folder */
  }
  return basename(cwd) || 'app';
}
