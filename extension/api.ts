/** What activate() returns: a small API for scripts and the extension-host tests. */
import type { AgentSummary, HostToWebview } from '../protocol';
import type { AgentManager } from './core/manager';
import type { FindingsTree } from './views/findingsTree';
import type { RouteLensTree } from './views/tree';

export interface RouteLensApi {
  /** Agents, their connection states, and the selected one. */
  state(): { agents: AgentSummary[]; selected: string | null; status: string };
  /** The manager (starts discovery if it had not started). */
  manager(): AgentManager;
  /** Rescans the discovery directory now. */
  rescan(): Promise<void>;
  dashboard: {
    isOpen(): boolean;
    isReady(): boolean;
    /** Last messages posted to the webview (bounded). */
    posted(): readonly HostToWebview[];
    /** Feeds a message as if the webview sent it. */
    receive(message: unknown): Promise<void>;
  };
  /** The Explorer view's data provider. */
  tree(): RouteLensTree;
  /** The Findings view's data provider. */
  findingsTree(): FindingsTree;
  /** Notifications raised for alerts so far. */
  notifications(): number;
}
