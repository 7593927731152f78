/**
 * The TCP ports the app's own servers listen on, for `agent.info()`: tools
 * that start the app (`routelens baseline`) learn where to send requests.
 * Read on demand from the process's active handles (Node keeps no public list
 * of listening servers); nothing is hooked and nothing runs per request.
 */
import { Server } from 'node:net';

/** Marks an agent's own server (any agent of the process), so appPorts() leaves it out. */
const AGENT_SERVER = Symbol.for('routelens.agentServer');

export function markAgentServer(server: object): void {
  (server as Record<symbol, boolean>)[AGENT_SERVER] = true;
}

export function appPorts(agentPort: number | undefined): number[] {
  const getHandles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  if (typeof getHandles !== 'function') return [];
  const ports = new Set<number>();
  try {
    for (const h of getHandles.call(process)) {
      if (!(h instanceof Server) || !h.listening || (h as unknown as Record<symbol, unknown>)[AGENT_SERVER]) continue;
      const a = h.address();
      if (a && typeof a === 'object' && a.port !== agentPort) ports.add(a.port);
    }
  } catch {
    return [];
  }
  return [...ports].sort((x, y) => x - y);
}

/** `{ appPorts }` when the app listens on any, else nothing (so the field stays absent). */
export function appPortsField(agentPort: number | undefined): { appPorts?: number[] } {
  const ports = appPorts(agentPort);
  return ports.length ? { appPorts: ports } : {};
}
