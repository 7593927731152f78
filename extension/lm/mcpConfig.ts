/** The MCP server definition of `routelens mcp` for MCP clients, as the editor offers it. Pure. */
import { join } from 'node:path';

export interface McpServerEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** The bundled command line inside the installed extension (or package). */
export function cliPath(extensionPath: string): string {
  return join(extensionPath, 'dist', 'cli', 'index.js');
}

/** `node <cli> mcp`; the discovery directory only when the user overrode it (clients may run with another environment). */
export function mcpServerEntry(extensionPath: string, discoveryDirOverride?: string): McpServerEntry {
  const dir = discoveryDirOverride?.trim();
  return { command: 'node', args: [cliPath(extensionPath), 'mcp'], ...(dir ? { env: { ROUTELENS_DISCOVERY_DIR: dir } } : {}) };
}

/** The `mcpServers` JSON of Claude Desktop / Claude Code / Cursor-style clients. */
export function mcpClientConfig(entry: McpServerEntry): string {
  return `${JSON.stringify({ mcpServers: { routelens: entry } }, null, 2)}\n`;
}
