/**
 * Messages between the extension host and the dashboard webview (postMessage).
 * The webview is untrusted: the host validates every message it receives
 * against `parseWebviewMessage` and forwards only allow-listed commands.
 */
import { z } from 'zod';
import { type CommandName, type ErrorInfo, COMMANDS } from './commands';
import type { Delta, Snapshot } from './types';

/** The connection state of one agent, as the extension sees it. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface AgentSummary {
  /** The extension's id for the connection (stable while the agent's discovery record is). */
  id: string;
  name: string;
  pid: number;
  url: string;
  state: ConnectionState;
}

/** Host → webview. */
export type HostToWebview =
  /** The list of agents and which one the dashboard shows. */
  | { type: 'agents'; agents: AgentSummary[]; selected: string | null }
  /** The selected agent's full state (on select, connect and resync). */
  | { type: 'snapshot'; agentId: string; snapshot: Snapshot }
  /** The selected agent's changes. */
  | { type: 'delta'; agentId: string; delta: Delta }
  /** The answer to a webview `command`. */
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: ErrorInfo }
  /** Show one endpoint's detail (from a code lens or a command). */
  | { type: 'focusEndpoint'; endpointId: string }
  /** Switch to a tab. */
  | { type: 'showTab'; tab: DashboardTab };

export const DASHBOARD_TABS = ['overview', 'endpoints', 'cache', 'rateLimits', 'alerts', 'slow', 'system'] as const;
export type DashboardTab = (typeof DASHBOARD_TABS)[number];

/** Commands the webview may ask the host to forward to the agent. Everything else is refused. */
export const WEBVIEW_COMMANDS = [
  'reset',
  'thresholds.set',
  'alerts.resolve',
  'cache.keys',
  'cache.inspect',
  'cache.invalidate',
  'cache.clearNamespace',
  'cache.warm',
  'rateLimit.resetKey',
  'rateLimit.setMax',
] as const satisfies readonly CommandName[];

const webviewMessage = z.discriminatedUnion('type', [
  /** The webview has loaded and listens; the host posts nothing before it. */
  z.object({ type: z.literal('ready') }).strict(),
  /** Run an agent command (allow-listed) on the selected agent; answered by one `reply`. */
  z
    .object({
      type: z.literal('command'),
      id: z.number().int().nonnegative().safe(),
      command: z.enum(WEBVIEW_COMMANDS),
      args: z.unknown().optional(),
    })
    .strict(),
  /** Open the handler of an endpoint of the selected agent in the editor. */
  z.object({ type: z.literal('openHandler'), endpointId: z.string().min(1).max(2048) }).strict(),
  /** Show another agent. */
  z.object({ type: z.literal('selectAgent'), agentId: z.string().min(1).max(256) }).strict(),
]);

/** Webview → host. */
export type WebviewToHost = z.output<typeof webviewMessage>;

/** Validates a message from the webview, including the forwarded command's arguments. */
export function parseWebviewMessage(data: unknown): { ok: true; message: WebviewToHost } | { ok: false; error: string } {
  const parsed = webviewMessage.safeParse(data);
  if (!parsed.success) return { ok: false, error: parsed.error.issues[0]?.message ?? 'bad message' };
  const message = parsed.data;
  if (message.type === 'command') {
    const args = COMMANDS[message.command].safeParse(message.args ?? {});
    if (!args.success) return { ok: false, error: `invalid arguments for ${message.command}` };
    return { ok: true, message: { ...message, args: args.data } };
  }
  return { ok: true, message };
}
