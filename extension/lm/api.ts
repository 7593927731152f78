/**
 * The editor APIs for language model tools (stable since VS Code 1.95) and MCP
 * server definition providers (stable since 1.101), declared here because
 * engines.vscode is ^1.90.0 and @types/vscode stays at 1.90. Nothing is
 * assumed: each is looked up at run time and used only when present.
 */
import * as vscode from 'vscode';

export interface LmToolInvocationOptions {
  input: unknown;
  toolInvocationToken?: unknown;
}

export interface LmToolResultLike {
  content: unknown[];
}

export interface LmTool {
  invoke(options: LmToolInvocationOptions, token: vscode.CancellationToken): Promise<LmToolResultLike>;
  prepareInvocation?(options: { input: unknown }, token: vscode.CancellationToken): { invocationMessage?: string; confirmationMessages?: { title: string; message: string } } | undefined;
}

export interface LmToolInformation {
  name: string;
  description: string;
  inputSchema: object | undefined;
  tags: readonly string[];
}

export interface LmToolsApi {
  registerTool(name: string, tool: LmTool): vscode.Disposable;
  readonly tools: readonly LmToolInformation[];
  invokeTool(name: string, options: LmToolInvocationOptions, token?: vscode.CancellationToken): Thenable<LmToolResultLike>;
}

export interface LmClasses {
  LanguageModelToolResult: new (content: unknown[]) => LmToolResultLike;
  LanguageModelTextPart: new (value: string) => { value: string };
}

/** `vscode.lm` with tools and the result classes, or undefined in an editor without them. */
export function lmTools(): { lm: LmToolsApi; classes: LmClasses } | undefined {
  const lm = (vscode as unknown as { lm?: Partial<LmToolsApi> }).lm;
  const classes = vscode as unknown as Partial<LmClasses>;
  if (typeof lm?.registerTool !== 'function' || typeof lm.invokeTool !== 'function' || !classes.LanguageModelToolResult || !classes.LanguageModelTextPart) return undefined;
  return { lm: lm as LmToolsApi, classes: classes as LmClasses };
}

export interface McpStdioDefinitionCtor {
  new (label: string, command: string, args?: string[], env?: Record<string, string>, version?: string): unknown;
}

export interface McpApi {
  registerMcpServerDefinitionProvider(id: string, provider: { provideMcpServerDefinitions(token: vscode.CancellationToken): unknown[] }): vscode.Disposable;
  McpStdioServerDefinition: McpStdioDefinitionCtor;
}

/** The MCP server definition provider API, or undefined where the editor lacks it. */
export function mcpApi(): McpApi | undefined {
  try {
    const lm = (vscode as unknown as { lm?: Partial<McpApi> }).lm;
    const ctor = (vscode as unknown as { McpStdioServerDefinition?: McpStdioDefinitionCtor }).McpStdioServerDefinition;
    if (typeof lm?.registerMcpServerDefinitionProvider !== 'function' || typeof ctor !== 'function') return undefined;
    return { registerMcpServerDefinitionProvider: lm.registerMcpServerDefinitionProvider.bind(lm), McpStdioServerDefinition: ctor };
  } catch {
    return undefined; // an editor that guards the proposal by throwing on access
  }
}
