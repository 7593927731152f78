/** What every feature and command of the extension shares, created once in activate(). */
import * as vscode from 'vscode';
import type { BaselinePoller } from './core/baseline';
import type { ProfileSummary } from '../protocol';
import type { AgentConnection, AgentManager } from './core/manager';
import type { DiscoveryWatcher } from './core/discovery';
import { RouteLensError, errorMessage } from './core/errors';
import type { RouteLensConfig } from './config';

export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly output: vscode.OutputChannel;
  config: RouteLensConfig;
  /** Starts discovery and the manager on first use (lazy activation). */
  ensureStarted(): { manager: AgentManager; watcher: DiscoveryWatcher; baseline: BaselinePoller };
  /** Opens (or reveals) the dashboard; focuses an endpoint when given. */
  openDashboard(options?: { endpointId?: string; agentId?: string; tab?: string; details?: boolean }): void;
  /** Lists a finished route profile in the dashboard's Route Details of its endpoint (opens the dashboard). */
  showProfile(agentId: string, summary: ProfileSummary): void;
  /** Enables/disables code lenses (setting change handled elsewhere). */
  log(line: string): void;
}

/** The selected agent, connected; throws RL_ERR_NO_AGENT / RL_ERR_NOT_CONNECTED. */
export function requireAgent(s: Services, agentId?: string): AgentConnection {
  const { manager } = s.ensureStarted();
  const conn = agentId ? manager.get(agentId) : manager.selected;
  if (!conn) throw new RouteLensError('RL_ERR_NO_AGENT', 'no RouteLens agent is connected: start your app with the agent, or run "RouteLens: Connect to Agent…"');
  if (conn.client.state !== 'connected') throw new RouteLensError('RL_ERR_NOT_CONNECTED', `${conn.label} is ${conn.client.state}`);
  return conn;
}

/** Runs a command body: reports success as an information message, failure as an error message (never throws). */
export async function report<T>(s: Services, what: string, body: () => Promise<T | undefined>, success?: (r: T) => string): Promise<T | undefined> {
  try {
    const r = await body();
    if (r !== undefined && success) void vscode.window.showInformationMessage(`RouteLens: ${success(r)}`);
    return r;
  } catch (err) {
    s.log(`${what} failed: ${errorMessage(err)}`);
    void vscode.window.showErrorMessage(`RouteLens: ${what} failed: ${errorMessage(err)}`);
    return undefined;
  }
}
