/**
 * The assistant tools as the editor's language model tools (`vscode.lm.registerTool`,
 * declared under `languageModelTools` in package.json as `routelens_<name>`), so
 * agent mode can call them without configuration. Same definitions as
 * `routelens mcp` (cli/tools), reading this window's connected agents.
 */
import type * as vscode from 'vscode';
import { TOOLS, type ToolDef, runTool } from '../../cli/tools';
import type { Services } from '../services';
import { type LmTool, lmTools } from './api';
import { createEditorContext } from './context';

export const LM_TOOL_PREFIX = 'routelens_';

export function lmToolName(def: Pick<ToolDef, 'name'>): string {
  return `${LM_TOOL_PREFIX}${def.name}`;
}

/** Registers every tool where the editor has `vscode.lm.registerTool`; none (and a log line) where it has not. */
export function registerLanguageModelTools(s: Services): vscode.Disposable[] {
  const api = lmTools();
  if (!api) {
    s.log('language model tools: this editor has no vscode.lm.registerTool; skipped');
    return [];
  }
  const ctx = createEditorContext(() => s.ensureStarted());
  return TOOLS.map((def) => {
    const tool: LmTool = {
      async invoke(options) {
        const r = await runTool(def, ctx, options.input);
        // The editor hands a thrown error's message to the model as the tool's failure.
        if (r.isError) throw new Error(r.text);
        return new api.classes.LanguageModelToolResult([new api.classes.LanguageModelTextPart(r.text)]);
      },
      prepareInvocation(options) {
        return { invocationMessage: `RouteLens: ${def.title}`, ...confirmation(def, options.input) };
      },
    };
    return api.lm.registerTool(lmToolName(def), tool);
  });
}

/** The editor asks the user before a tool changes the app: a reset, a route profile, or a confirmed cache invalidation (never its dry run). */
function confirmation(def: ToolDef, input: unknown): { confirmationMessages?: { title: string; message: string } } {
  const args = (input ?? {}) as Record<string, unknown>;
  if (def.name === 'reset_metrics') {
    return { confirmationMessages: { title: 'Reset RouteLens metrics?', message: typeof args.endpoint === 'string' ? `Erase the recorded figures of ${JSON.stringify(args.endpoint.slice(0, 200))}.` : 'Erase every recorded figure of the app.' } };
  }
  if (def.name === 'profile_route') {
    const seconds = typeof args.seconds === 'number' ? args.seconds : 10;
    return { confirmationMessages: { title: 'Profile a route?', message: `Record a CPU profile of the app for ${seconds} s and keep ${typeof args.route === 'string' ? JSON.stringify(args.route.slice(0, 200)) : 'the route'}'s samples (a few percent of CPU meanwhile; writes a .cpuprofile).` } };
  }
  if (def.name === 'invalidate_cache' && typeof args.confirmationToken === 'string') {
    const what = ['key', 'pattern', 'tag'].find((k) => typeof args[k] === 'string');
    return { confirmationMessages: { title: 'Remove cache entries?', message: what ? `Remove the cache entries of ${what} ${JSON.stringify(String(args[what]).slice(0, 200))}, as the dry run listed.` : 'Remove the cache entries the dry run listed.' } };
  }
  return {};
}
