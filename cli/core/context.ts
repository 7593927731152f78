/** The tool context of the command-line tools: agents found through discovery, read over HTTP, optionally pinned to one. */
import type { DiscoveryRecord } from '../../protocol';
import { ConfirmationTokens, type ToolContext } from '../tools';
import { type DiscoverOptions, discoverAgents } from './discover';
import { DEFAULT_TIMEOUT_MS } from './http';
import { type AgentRef, type AgentSource, HttpAgentSource, NoAgentError, pickAgent } from './source';

export interface CliContextOptions extends DiscoverOptions {
  /** `--agent`: only this agent (pid or name). */
  pinned?: string;
  /** Per HTTP call to the agent. */
  timeoutMs?: number;
}

export function createCliContext(options: CliContextOptions = {}): ToolContext {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const reachable = async (): Promise<DiscoveryRecord[]> => {
    const all = (await discoverAgents(options)).map((a) => a.record);
    return options.pinned ? [pickAgent(all, options.pinned)] : all;
  };
  return {
    confirmations: new ConfirmationTokens(),
    async listAgents(): Promise<AgentRef[]> {
      try {
        return (await reachable()).map((r) => new HttpAgentSource(r, timeoutMs).agent);
      } catch (err) {
        if (err instanceof NoAgentError) return []; // the pinned agent is not running
        throw err;
      }
    },
    async source(selector?: string): Promise<AgentSource> {
      return new HttpAgentSource(pickAgent(await reachable(), selector), timeoutMs);
    },
  };
}
