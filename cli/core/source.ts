/**
 * Where the assistant tools get their figures from: one running agent. The
 * command-line tools read it over HTTP (HttpAgentSource); the editor reads its
 * own live connection. Pure: no vscode, no MCP SDK.
 */
import type { CommandArgs, CommandName, CommandResults, DiscoveryRecord, EndpointSort, EndpointStats, Snapshot, WindowName } from '../../protocol';
import { AgentHttp } from './http';

/** An agent as the tools show it: never its token. */
export interface AgentRef {
  pid: number;
  name: string;
  /** `http://host:port` of its local API, or the editor's connection URL. */
  url: string;
  cwd: string;
  version: string;
  /** Epoch ms. */
  startedAt: number;
}

export interface AgentSource {
  readonly agent: AgentRef;
  /** Identity that changes when the app restarts (pid, start time, port): confirmation tokens are bound to it. */
  readonly identity: string;
  snapshot(): Promise<Snapshot>;
  /** Sorted as `GET /v1/endpoints` sorts. */
  endpoints(sort: EndpointSort, window: WindowName, limit: number): Promise<EndpointStats[]>;
  /** `timeoutMs`: longer than the source's default, for a command that runs for a while (a route profile). */
  command<C extends CommandName>(command: C, args: CommandArgs<C>, timeoutMs?: number): Promise<CommandResults[C]>;
}

/** Thrown when no agent is running, or none matches the selector. `data` holds app-controlled strings (names) apart from the message. */
export class NoAgentError extends Error {
  constructor(
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'NoAgentError';
  }
}

export function agentRef(record: DiscoveryRecord, url: string): AgentRef {
  return { pid: record.pid, name: record.name, url, cwd: record.cwd, version: record.version, startedAt: record.startedAt };
}

export class HttpAgentSource implements AgentSource {
  readonly agent: AgentRef;
  readonly identity: string;
  private readonly http: AgentHttp;

  constructor(record: DiscoveryRecord, timeoutMs?: number) {
    this.http = new AgentHttp(record, timeoutMs);
    this.agent = agentRef(record, this.http.baseUrl);
    this.identity = `${record.pid}:${record.startedAt}:${record.port}`;
  }

  snapshot(): Promise<Snapshot> {
    return this.http.snapshot();
  }

  endpoints(sort: EndpointSort, window: WindowName, limit: number): Promise<EndpointStats[]> {
    return this.http.endpoints(sort, window, limit);
  }

  command<C extends CommandName>(command: C, args: CommandArgs<C>, timeoutMs?: number): Promise<CommandResults[C]> {
    return this.http.command(command, args, timeoutMs);
  }
}

/**
 * The same order as the agent's `GET /v1/endpoints`: the window's p95 (slowest)
 * or request count (most-requested), descending; ties by id. For sources that
 * hold a snapshot rather than asking the agent.
 */
export function sortEndpoints(all: readonly EndpointStats[], sort: EndpointSort, window: WindowName, limit: number): EndpointStats[] {
  const key = sort === 'slowest' ? (e: EndpointStats) => e.windows[window]?.p95 ?? 0 : (e: EndpointStats) => e.windows[window]?.count ?? 0;
  return all
    .map((e) => ({ e, k: key(e) }))
    .sort((a, b) => b.k - a.k || (a.e.id < b.e.id ? -1 : a.e.id > b.e.id ? 1 : 0))
    .slice(0, limit)
    .map((x) => x.e);
}

/**
 * Picks one agent: by pid (all digits) or by name (exact, then
 * case-insensitive). No selector: the newest. `agents` are newest first.
 */
export function pickAgent<T extends { pid: number; name: string }>(agents: readonly T[], selector?: string): T {
  if (!agents.length) throw new NoAgentError('No RouteLens agent is running: start the app with the agent (node --import routelens/register app.js), then try again');
  if (!selector) return agents[0]!;
  const s = selector.trim();
  const found = /^\d+$/.test(s) ? agents.find((a) => a.pid === Number(s)) : (agents.find((a) => a.name === s) ?? agents.find((a) => a.name.toLowerCase() === s.toLowerCase()));
  if (!found) throw new NoAgentError('No running RouteLens agent matches the pid or name asked for', { asked: s.slice(0, 100), running: agents.slice(0, 20).map((a) => ({ pid: a.pid, name: a.name.slice(0, 100) })) });
  return found;
}
