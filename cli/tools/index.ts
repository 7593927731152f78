/**
 * The assistant tools, in one table: the MCP server (`routelens mcp`) and the
 * editor's language model tools register these same definitions. runTool()
 * is the one way to call one: input validated, errors turned into error
 * results, the call bounded in time, the answer in size.
 */
import { NoAgentError } from '../core/source';
import { AgentHttpError } from '../core/http';
import { invalidateCache, profileRoute, resetMetrics } from './actions';
import { type ToolOutput, fail, renderOutput } from './data';
import { compare, history } from './history';
import { findings, healthSummary, listAgents } from './overview';
import { busiestRoutes, routeDetails, slowRequests, slowestRoutes } from './routes';
import type { ToolContext, ToolDef } from './types';

export type { ToolContext, ToolDef } from './types';
export { ConfirmationTokens } from './confirm';
export { parseOutputData, renderOutput, type ToolOutput } from './data';

export const TOOLS: readonly ToolDef[] = [listAgents, healthSummary, slowestRoutes, busiestRoutes, routeDetails, findings, compare, history, slowRequests, resetMetrics, invalidateCache, profileRoute];

/** Longest a tool call may take, agent calls included. */
export const TOOL_TIMEOUT_MS = 15_000;

export interface RenderedResult {
  text: string;
  isError: boolean;
}

export async function runTool(def: ToolDef, ctx: ToolContext, rawArgs: unknown, timeoutMs = TOOL_TIMEOUT_MS): Promise<RenderedResult> {
  const out = await callTool(def, ctx, rawArgs, timeoutMs);
  return { text: renderOutput(out), isError: out.isError === true };
}

async function callTool(def: ToolDef, ctx: ToolContext, rawArgs: unknown, timeoutMs: number): Promise<ToolOutput> {
  const parsed = def.input.safeParse(rawArgs ?? {});
  if (!parsed.success) return fail(`Invalid arguments for ${def.name}.`, { issues: parsed.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message.slice(0, 200) })) });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ToolOutput>((resolve) => {
    const limit = def.timeoutMs?.(parsed.data) ?? timeoutMs;
    timer = setTimeout(() => resolve(fail(`${def.name} did not finish within ${limit} ms; nothing more will be reported for this call.`)), limit);
    timer.unref?.();
  });
  try {
    return await Promise.race([def.run(ctx, parsed.data).catch(errorOutput), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorOutput(err: unknown): ToolOutput {
  if (err instanceof NoAgentError) return fail(`${err.message}.`, err.data);
  if (err instanceof AgentHttpError) return fail(`The agent could not answer (${err.code}). Its message is in the data block.`, { code: err.code, message: err.message.slice(0, 500) });
  const e = err as { code?: unknown; message?: unknown };
  return fail(`The call failed${typeof e?.code === 'string' ? ` (${e.code.slice(0, 40)})` : ''}. The message is in the data block.`, { message: String(e?.message ?? err).slice(0, 500) });
}
