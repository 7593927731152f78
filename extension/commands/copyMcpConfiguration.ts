import * as vscode from 'vscode';
import { mcpClientConfig, mcpServerEntry } from '../lm/mcpConfig';
import { discoveryDirOverride } from '../lm/mcp';
import { report, type Services } from '../services';
import { CommandId } from './ids';

/** Copies the `mcpServers` JSON that runs this extension's `routelens mcp`, for other MCP clients; returns it. */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.CopyMcpConfiguration, () =>
    report(s, 'copy MCP configuration', async () => {
      const json = mcpClientConfig(mcpServerEntry(s.context.extensionPath, discoveryDirOverride()));
      await vscode.env.clipboard.writeText(json);
      return json;
    }, () => 'MCP configuration copied: paste it into your MCP client\'s configuration (mcpServers).'),
  );
}
