/**
 * The assistant tools' context in the editor: the agents this window is
 * connected to (the selected one first), read from each connection's live
 * store; commands go over the same WebSocket. Pure (no vscode).
 */
import type { CommandArgs, CommandName, CommandResults, EndpointSort, EndpointStats, Snapshot, WindowName } from '../../protocol';
import { type AgentRef, type AgentSource, NoAgentError, pickAgent, sortEndpoints } from '../../cli/core/source';
import { ConfirmationTokens, type ToolContext } from '../../cli/tools';
import type { DiscoveryWatcher } from '../core/discovery';
import type { AgentConnection, AgentManager } from '../core/manager';

/** How long a tool waits for a first connection right after discovery started. */
const CONNECT_WAIT_MS = 3000;

export class ConnectionSource implements AgentSource {
  readonly agent: AgentRef;
  readonly identity: string;

  constructor(
    private readonly conn: AgentConnection,
    first: Snapshot,
  ) {
    this.agent = refOf(conn, first);
    this.identity = `${conn.id}|${first.agent.pid}|${first.agent.startedAt}`;
  }

  async snapshot(): Promise<Snapshot> {
    return this.conn.client.store.snapshot ?? this.conn.client.request('snapshot', {});
  }

  async endpoints(sort: EndpointSort, window: WindowName, limit: number): Promise<EndpointStats[]> {
    return sortEndpoints((await this.snapshot()).endpoints, sort, window, limit);
  }

  command<C extends CommandName>(command: C, args: CommandArgs<C>, timeoutMs?: number): Promise<CommandResults[C]> {
    return this.conn.client.request(command, args, timeoutMs);
  }
}

function refOf(conn: AgentConnection, s: Snapshot): AgentRef {
  return { pid: s.agent.pid, name: s.agent.name, url: conn.client.endpoint?.url ?? '', cwd: s.agent.cwd, version: s.agent.version, startedAt: s.agent.startedAt };
}

export function createEditorContext(started: () => { manager: AgentManager; watcher: DiscoveryWatcher }): ToolContext {
  const ready = (manager: AgentManager) => {
    const all = [manager.selected, ...manager.all].filter((c, i, a): c is AgentConnection => !!c && a.indexOf(c) === i);
    return all.flatMap((c) => (c.client.state === 'connected' && c.client.store.snapshot ? [{ pid: c.client.store.snapshot.agent.pid, name: c.client.store.snapshot.agent.name, conn: c, snapshot: c.client.store.snapshot }] : []));
  };
  const connected = async () => {
    const { manager, watcher } = started();
    if (ready(manager).length) return ready(manager);
    // Just started, or the app just came up: look again and give the connection a moment.
    await watcher.rescan();
    const end = Date.now() + CONNECT_WAIT_MS;
    while (!ready(manager).length && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    return ready(manager);
  };
  return {
    confirmations: new ConfirmationTokens(),
    async listAgents() {
      return (await connected()).map((c) => refOf(c.conn, c.snapshot));
    },
    async source(selector?: string) {
      const list = await connected();
      if (!list.length) throw new NoAgentError('No RouteLens agent is connected in this window: start the app with the agent (node --import routelens/register app.js), or run "RouteLens: Connect to Agent…"');
      const c = pickAgent(list, selector);
      return new ConnectionSource(c.conn, c.snapshot);
    },
  };
}
