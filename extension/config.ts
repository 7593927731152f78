/**
 * Settings, read once per configuration change into derived values (compiled
 * lens formatter, resolved path mappings), so event handlers only read them.
 * Adding a setting: declare it in package.json `contributes.configuration`,
 * read it here, document it in docs/extension.md.
 */
import * as vscode from 'vscode';
import { type PathMapping, resolveDiscoveryDir, resolvePathMappings } from './core/discovery';
import { DEFAULT_LENS_FORMAT, type LensFormatter, compileLensFormat } from './core/format';

export const SECTION = 'routelens';

export type NotificationLevel = 'all' | 'critical' | 'none';

export interface RouteLensConfig {
  autoConnect: boolean;
  codeLensEnabled: boolean;
  lensFormat: string;
  formatLens: LensFormatter;
  notifications: NotificationLevel;
  pathMappings: PathMapping[];
  discoveryDir: string;
  maxDelayMs: number;
}

export function readConfig(): RouteLensConfig {
  const c = vscode.workspace.getConfiguration(SECTION);
  const lensFormat = c.get<string>('codeLens.format', DEFAULT_LENS_FORMAT);
  const notifications = c.get<string>('notifications', 'critical');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const maxDelay = c.get<number>('reconnect.maxDelayMs', 30_000);
  return {
    autoConnect: c.get<boolean>('autoConnect', true),
    codeLensEnabled: c.get<boolean>('codeLens.enabled', true),
    lensFormat,
    formatLens: compileLensFormat(lensFormat),
    notifications: notifications === 'all' || notifications === 'none' ? notifications : 'critical',
    pathMappings: resolvePathMappings(c.get('pathMappings', {}), folder),
    discoveryDir: resolveDiscoveryDir(c.get<string>('discoveryDir', '')),
    maxDelayMs: Number.isFinite(maxDelay) ? Math.min(Math.max(maxDelay, 1000), 600_000) : 30_000,
  };
}
