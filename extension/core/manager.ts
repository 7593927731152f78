/**
 * Every agent connection of the window, and which one is selected. Pure
 * (no vscode). Discovered agents are keyed by name + cwd, so a restarted app
 * (new pid, port and token) keeps its connection: the client re-reads
 * discovery for that key before each reconnect.
 */
import type { AgentSummary, ConnectionState, Delta, DiscoveryRecord, Snapshot } from '../../protocol';
import { AgentClient, type AgentClientOptions, type AgentEndpoint, endpointFromRecord } from './client';
import type { DiscoveredAgent } from './discovery';

export interface AgentConnection {
  id: string;
  /** Discovery key, or undefined for a manual URL + token connection. */
  key?: string;
  label: string;
  record?: DiscoveryRecord;
  client: AgentClient;
}

export type ManagerEvent =
  | { kind: 'agents' }
  | { kind: 'state'; id: string; state: ConnectionState }
  | { kind: 'snapshot'; id: string; snapshot: Snapshot }
  | { kind: 'delta'; id: string; delta: Delta }
  | { kind: 'selected'; id: string | undefined };

export interface ManagerOptions {
  /** Latest discovery list (the watcher's). */
  discovered: () => DiscoveredAgent[];
  /** Re-reads discovery now (before a reconnect). */
  rescan: () => Promise<DiscoveredAgent[]>;
  client?: Omit<AgentClientOptions, 'resolve' | 'log'>;
  log?: (line: string) => void;
}

export class AgentManager {
  private readonly connections = new Map<string, AgentConnection>();
  private readonly subs = new Map<string, Array<{ dispose(): void }>>();
  private selectedId: string | undefined;
  private readonly listeners = new Set<(e: ManagerEvent) => void>();
  /** Keys the user disconnected: auto-connect leaves them alone until they connect again. */
  private readonly optedOut = new Set<string>();
  private manualCount = 0;

  constructor(private readonly o: ManagerOptions) {}

  onEvent(l: (e: ManagerEvent) => void): { dispose(): void } {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  }

  private emit(e: ManagerEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.o.log?.(`listener failed: ${(err as Error).message}`);
      }
    }
  }

  get all(): AgentConnection[] {
    return [...this.connections.values()];
  }

  get(id: string): AgentConnection | undefined {
    return this.connections.get(id);
  }

  get selected(): AgentConnection | undefined {
    return this.selectedId ? this.connections.get(this.selectedId) : undefined;
  }

  select(id: string | undefined): boolean {
    if (id !== undefined && !this.connections.has(id)) return false;
    if (this.selectedId === id) return true;
    this.selectedId = id;
    this.emit({ kind: 'selected', id });
    return true;
  }

  summaries(): AgentSummary[] {
    return this.all.map((c) => ({ id: c.id, name: c.label, pid: c.client.store.snapshot?.agent.pid ?? c.record?.pid ?? 0, url: c.client.endpoint?.url ?? '', state: c.client.state }));
  }

  /** Connects to every discovered agent not yet connected (auto-connect). */
  autoConnect(agents: DiscoveredAgent[]): void {
    for (const a of agents) if (!this.optedOut.has(a.key) && !this.connections.has(a.key)) this.connectDiscovered(a);
  }

  connectDiscovered(agent: DiscoveredAgent): AgentConnection {
    this.optedOut.delete(agent.key);
    const existing = this.connections.get(agent.key);
    if (existing) {
      this.select(existing.id);
      return existing;
    }
    const key = agent.key;
    const resolve = async (): Promise<AgentEndpoint | undefined> => {
      const list = await this.o.rescan();
      const found = list.find((a) => a.key === key);
      if (found) {
        const conn = this.connections.get(key);
        if (conn) conn.record = found.record;
      }
      return found ? endpointFromRecord(found.record) : undefined;
    };
    return this.add({ id: key, key, label: agent.record.name, record: agent.record }, resolve);
  }

  connectManual(url: string, token: string, label = url): AgentConnection {
    const id = `manual:${++this.manualCount}:${url}`;
    return this.add({ id, label }, () => ({ url, token }));
  }

  private add(c: Omit<AgentConnection, 'client'>, resolve: () => AgentEndpoint | undefined | Promise<AgentEndpoint | undefined>): AgentConnection {
    const log = (line: string) => this.o.log?.(`[${c.label}] ${line}`);
    const client = new AgentClient({ ...this.o.client, resolve, log });
    const conn: AgentConnection = { ...c, client };
    this.connections.set(conn.id, conn);
    this.subs.set(conn.id, [
      client.onState((state) => {
        this.emit({ kind: 'state', id: conn.id, state });
        this.emit({ kind: 'agents' });
      }),
      client.onSnapshot((snapshot) => this.emit({ kind: 'snapshot', id: conn.id, snapshot })),
      client.onDelta((delta) => this.emit({ kind: 'delta', id: conn.id, delta })),
    ]);
    client.start();
    this.emit({ kind: 'agents' });
    if (!this.selectedId) this.select(conn.id);
    return conn;
  }

  disconnect(id: string): boolean {
    const conn = this.connections.get(id);
    if (!conn) return false;
    if (conn.key) this.optedOut.add(conn.key);
    for (const s of this.subs.get(id) ?? []) s.dispose();
    this.subs.delete(id);
    conn.client.dispose();
    this.connections.delete(id);
    if (this.selectedId === id) this.select(this.connections.keys().next().value);
    this.emit({ kind: 'agents' });
    return true;
  }

  dispose(): void {
    for (const id of [...this.connections.keys()]) {
      for (const s of this.subs.get(id) ?? []) s.dispose();
      this.connections.get(id)?.client.dispose();
    }
    this.connections.clear();
    this.subs.clear();
    this.listeners.clear();
  }
}
