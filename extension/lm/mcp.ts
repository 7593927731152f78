/**
 * Offers `routelens mcp` to the editor's own MCP support through the MCP server
 * definition provider API (package.json `mcpServerDefinitionProviders`), where
 * the running editor has it; skipped (with a log line) where it does not.
 */
import * as vscode from 'vscode';
import type { Services } from '../services';
import { mcpApi } from './api';
import { mcpServerEntry } from './mcpConfig';

export const MCP_PROVIDER_ID = 'routelens';

/** The discovery directory to hand to a server started outside this extension host, when it is not the default. */
export function discoveryDirOverride(): string | undefined {
  const setting = vscode.workspace.getConfiguration('routelens').get<string>('discoveryDir', '').trim();
  return setting || process.env.ROUTELENS_DISCOVERY_DIR || undefined;
}

export function registerMcpServerProvider(s: Services): vscode.Disposable[] {
  const api = mcpApi();
  if (!api) {
    s.log('MCP server definition provider: not available in this editor; skipped (use "RouteLens: Copy MCP Configuration")');
    return [];
  }
  try {
    const provider = {
      provideMcpServerDefinitions: () => {
        const entry = mcpServerEntry(s.context.extensionPath, discoveryDirOverride());
        // The editor's own Node.js (Electron run as Node in a desktop editor): no `node` on PATH needed.
        const env = { ...entry.env, ELECTRON_RUN_AS_NODE: '1' };
        return [new api.McpStdioServerDefinition('RouteLens', process.execPath, entry.args, env, String(s.context.extension.packageJSON.version ?? ''))];
      },
    };
    return [api.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, provider)];
  } catch (err) {
    // Present but refused, e.g. still a proposed API in this editor version.
    s.log(`MCP server definition provider: skipped (${(err as Error).message})`);
    return [];
  }
}
