/**
 * `routelens mcp`: a Model Context Protocol server over stdio (the official
 * TypeScript SDK), serving the assistant tools of cli/tools. Standard output
 * carries the protocol only; diagnostics go to standard error. Exits when the
 * client closes standard input.
 */
import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { AGENT_OPTIONS, AGENT_OPTIONS_HELP, type Command, stringOption } from '../command';
import { createCliContext } from '../core/context';
import { CLI_VERSION } from '../version';
import { TOOLS, type ToolContext, runTool } from '../tools';

export const mcp: Command = {
  name: 'mcp',
  summary: 'serve the RouteLens tools to an AI assistant (MCP over stdio)',
  help: [
    'Usage: routelens mcp [--agent <pid|name>]',
    '',
    'A Model Context Protocol server on standard input/output for AI assistants',
    '(Claude, VS Code, Cursor…). Tools: ' + TOOLS.map((t) => t.name).join(', ') + '.',
    'See docs/mcp.md. Configure your client to run: routelens mcp',
    '',
    AGENT_OPTIONS_HELP,
  ].join('\n'),
  options: { ...AGENT_OPTIONS },
  async run(values, _positionals, io) {
    const ctx = createCliContext({ pinned: stringOption(values, 'agent'), dir: stringOption(values, 'discovery-dir'), env: io.env });
    const server = createMcpServer(ctx);
    const closed = new Promise<void>((resolve) => {
      server.server.onclose = () => resolve();
    });
    server.server.onerror = (err) => io.err(`routelens mcp: ${err.message}\n`);
    await server.connect(new StdioServerTransport());
    await closed;
    return 0;
  },
};

export function createMcpServer(ctx: ToolContext): McpServer {
  const server = new McpServer({ name: 'routelens', version: CLI_VERSION });
  for (const def of TOOLS) {
    server.registerTool(
      def.name,
      {
        title: def.title,
        description: def.description,
        inputSchema: def.input,
        annotations: { title: def.title, readOnlyHint: def.readOnly, destructiveHint: !def.readOnly, idempotentHint: def.readOnly, openWorldHint: false },
      },
      async (args: unknown) => {
        const r = await runTool(def, ctx, args);
        return { content: [{ type: 'text' as const, text: r.text }], isError: r.isError };
      },
    );
  }
  return server;
}
