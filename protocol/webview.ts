/**
 * Messages between the extension host and the dashboard webview (postMessage).
 * The webview is untrusted: the host validates every message it receives
 * against `parseWebviewMessage` (./validate.ts) and forwards only allow-listed
 * commands.
 */
import type { CommandName, ErrorInfo } from './commands';
import type { StreamFields } from './feed';
import type { FindingKind, ProfileSummary } from './spans';
import type { Delta, Snapshot, SourceLocation } from './types';

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
  /**
   * The selected agent's full state (on select, connect and resync): the
   * extension's `FeedState`, so it also carries the recent cache events.
   */
  | { type: 'snapshot'; agentId: string; snapshot: Snapshot & Partial<StreamFields> }
  /** The selected agent's changes. */
  | { type: 'delta'; agentId: string; delta: Delta }
  /** The answer to a webview `command`. */
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: ErrorInfo }
  /** Show one endpoint's detail (from a code lens or a command). */
  | { type: 'focusEndpoint'; endpointId: string }
  /** Switch to a tab. */
  | { type: 'showTab'; tab: DashboardTab }
  /** Show one endpoint's Route Details (breakdown, traces, profile): from a lens action or a command. */
  | { type: 'showDetails'; endpointId: string }
  /** A route profile of the selected agent finished (`profile.start`): listed in that endpoint's Route Details. */
  | { type: 'profile'; agentId: string; summary: ProfileSummary };

/** Every `HostToWebview` type, by a record so the compiler checks the list is complete. */
const HOST_TYPES_CHECKED: Record<HostToWebview['type'], true> = { agents: true, snapshot: true, delta: true, reply: true, focusEndpoint: true, showTab: true, showDetails: true, profile: true };
export const HOST_MESSAGE_TYPES = Object.keys(HOST_TYPES_CHECKED) as ReadonlyArray<HostToWebview['type']>;

export const DASHBOARD_TABS = ['overview', 'endpoints', 'cache', 'rateLimits', 'alerts', 'slow', 'system', 'history', 'details'] as const;
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
  'history.get',
  'traces.list',
  'endpoint.breakdown',
] as const satisfies readonly CommandName[];
export type WebviewCommand = (typeof WEBVIEW_COMMANDS)[number];

/** Webview → host. */
export type WebviewToHost =
  /** The webview has loaded and listens; the host posts nothing before it. */
  | { type: 'ready' }
  /** Run an agent command (allow-listed) on the selected agent; answered by one `reply`. */
  | { type: 'command'; id: number; command: WebviewCommand; args?: unknown }
  /** Open the handler of an endpoint of the selected agent in the editor. */
  | { type: 'openHandler'; endpointId: string }
  /** Show another agent. */
  | { type: 'selectAgent'; agentId: string }
  /**
   * Open a source line of the selected agent in the editor: a span's, an
   * operation's, a finding's or a profiled function's. The host opens only a
   * location the agent itself reported (in a reply it forwarded, a finding or a
   * profile); anything else is refused.
   */
  | { type: 'openLocation'; location: SourceLocation };

/** How the editor and the dashboard name each kind of finding (lens, Problems panel, Findings view, Route details). */
export const FINDING_LABELS: Record<FindingKind, string> = {
  'n-plus-one': 'N+1',
  'slow-query': 'Slow query',
  'sequential-awaits': 'Sequential awaits',
  blocking: 'Blocking',
  'cache-opportunity': 'Cache opportunity',
  'low-hit-rate': 'Low hit rate',
};

/** `routes/orders.js:12`: a location by the last two segments of its path (untrusted: show it as text). */
export function shortLocation(loc: SourceLocation): string {
  return `${loc.file.split(/[\\/]/).filter(Boolean).slice(-2).join('/')}:${loc.line}`;
}
