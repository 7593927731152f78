/**
 * Where agents advertise themselves. Pure: the caller passes env, uid and tmpdir,
 * so the agent (writer) and the extension (reader) agree on one rule.
 */
import type { DiscoveryRecord } from './types';

export function discoveryDir(env: Record<string, string | undefined>, uid: number, tmpdir: string, join: (...p: string[]) => string): string {
  if (env.ROUTELENS_DISCOVERY_DIR) return env.ROUTELENS_DISCOVERY_DIR;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'routelens');
  return join(tmpdir, `routelens-${uid}`);
}

export function discoveryFileName(pid: number): string {
  return `agent-${pid}.json`;
}

export const DISCOVERY_FILE_PATTERN = /^agent-(\d+)\.json$/;

/** Checks a parsed discovery file; returns undefined when it is not one. */
export function asDiscoveryRecord(data: unknown): DiscoveryRecord | undefined {
  if (data === null || typeof data !== 'object') return undefined;
  const r = data as Record<string, unknown>;
  const ok =
    Number.isInteger(r.pid) &&
    Number.isInteger(r.port) && (r.port as number) > 0 && (r.port as number) < 65536 &&
    typeof r.host === 'string' &&
    typeof r.token === 'string' && r.token.length >= 16 &&
    typeof r.cwd === 'string' &&
    typeof r.name === 'string' &&
    typeof r.version === 'string' &&
    typeof r.startedAt === 'number';
  if (!ok) return undefined;
  return {
    pid: r.pid as number,
    port: r.port as number,
    host: r.host as string,
    token: r.token as string,
    cwd: r.cwd as string,
    name: r.name as string,
    version: r.version as string,
    protocolVersion: typeof r.protocolVersion === 'number' ? r.protocolVersion : 1,
    startedAt: r.startedAt as number,
  };
}
