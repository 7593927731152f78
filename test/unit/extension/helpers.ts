import type { EndpointStats } from '../../../protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDir(prefix = 'rl-ext-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Polls until `check` returns a truthy value (generous budget: shared 2-core machine). */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function endpoint(over: Partial<EndpointStats> = {}): EndpointStats {
  const s = { count: 1234, errors: 5, aborted: 0, min: 1, avg: 20, max: 120, p50: 18, p95: 42, p99: 80 };
  return { id: 'GET /users/:id', method: 'GET', route: '/users/:id', kind: 'route', ...s, statusCodes: {}, windows: { '1m': s, '5m': s, all: s }, rate: 2, lastSeen: 0, ...over };
}

