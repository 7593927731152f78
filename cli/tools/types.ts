/** What every assistant tool is made of. Pure: the MCP server and the editor's language model tools wrap the same definitions. */
import { z } from 'zod';
import type { AgentRef, AgentSource } from '../core/source';
import type { ConfirmationTokens } from './confirm';
import type { ToolOutput } from './data';

export interface ToolContext {
  /** Running agents this context can reach, newest (or selected) first. */
  listAgents(): Promise<AgentRef[]>;
  /** One agent, by pid or name; the default one without a selector. Throws NoAgentError. */
  source(selector?: string): Promise<AgentSource>;
  readonly confirmations: ConfirmationTokens;
}

export interface ToolDef<S extends z.ZodObject = z.ZodObject> {
  /** snake_case; the editor prefixes `routelens_`. */
  name: string;
  title: string;
  /** Written for a model: what it answers, when to use it, units. */
  description: string;
  input: S;
  /** Reads only (false: changes the app's state). */
  readOnly: boolean;
  /** How long a call may take (ms), when longer than TOOL_TIMEOUT_MS: a tool that runs for a while by design. */
  timeoutMs?(args: z.infer<S>): number;
  run(ctx: ToolContext, args: z.infer<S>): Promise<ToolOutput>;
}

export function defineTool<S extends z.ZodObject>(def: ToolDef<S>): ToolDef {
  return def as unknown as ToolDef;
}

/** The optional agent selector every agent-reading tool takes. */
export const agentArg = z
  .string()
  .min(1)
  .max(200)
  .optional()
  .describe('pid or name of the agent to ask (see list_agents); default: the only or newest running agent');

export const windowArg = z.enum(['1m', '5m', 'all']).default('5m').describe('time window: last minute, last 5 minutes, or since the app started (or the last reset)');

export const limitArg = (max: number, dflt: number) => z.number().int().min(1).max(max).default(dflt).describe(`how many to return (1-${max})`);

/** One route, as route_details, history and profile_route take it. */
export const routeArg = z.string().min(1).max(500).describe('endpoint id such as "GET /users/:id", or a route template such as "/users/:id"');
