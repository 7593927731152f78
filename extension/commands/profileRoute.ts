import * as vscode from 'vscode';
import type { ProfileSummary } from '../../protocol';
import { formatCount } from '../../protocol';
import { mapRemotePath } from '../core/discovery';
import { DEFAULT_PROFILE_SECONDS, PROFILE_WRITE_MARGIN_MS, secondsError } from '../core/profile';
import { plainText } from '../core/text';
import { report, requireAgent, type Services } from '../services';
import { CommandId } from './ids';
import { pickEndpoint } from './pickEndpoint';
import { promptOptions } from './prompt';

/**
 * Args: `{ endpointId?, agentId?, seconds?, open? }` (a lens gives the
 * endpoint; otherwise a pick; the seconds are asked, default 10). Shows
 * progress while the agent profiles, opens the written `.cpuprofile` (VS Code's
 * profile viewer) unless `open: false`, and lists its top self-time functions
 * in the dashboard's Route Details. The agent runs one profile at a time and
 * refuses a second: its message is shown. Returns the profile's summary.
 */
export function register(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(CommandId.ProfileRoute, (args?: { endpointId?: string; agentId?: string; seconds?: number; open?: boolean }) =>
    report<ProfileSummary>(
      s,
      'profile route',
      async () => {
        const conn = requireAgent(s, typeof args?.agentId === 'string' ? args.agentId : undefined);
        const endpoint = typeof args?.endpointId === 'string' ? args.endpointId : await pickEndpoint(conn, 'Profile Route');
        if (!endpoint) return undefined;
        let seconds = typeof args?.seconds === 'number' ? args.seconds : undefined;
        if (seconds === undefined) {
          const text = await vscode.window.showInputBox({
            title: `RouteLens: Profile ${plainText(endpoint)}`,
            prompt: 'Seconds to record; exercise the route meanwhile',
            value: String(DEFAULT_PROFILE_SECONDS),
            validateInput: secondsError,
            ...promptOptions(),
          });
          if (text === undefined) return undefined;
          seconds = Number(text);
        }
        const secs = seconds;
        const summary = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `RouteLens: profiling ${plainText(endpoint)} for ${secs} s — exercise the route now` },
          () => conn.client.request('profile.start', { endpoint, seconds: secs }, secs * 1000 + PROFILE_WRITE_MARGIN_MS),
        );
        s.log(`profile of ${endpoint}: ${summary.kept} of ${summary.samples} samples kept, ${summary.requests} requests, written to ${summary.file}`);
        s.showProfile(conn.id, summary);
        // Beside the dashboard, so its Route Details (the top functions) stays in view next to the profile viewer.
        if (args?.open !== false) await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(mapRemotePath(summary.file, s.config.pathMappings)), vscode.ViewColumn.Beside);
        return summary;
      },
      (r) => `profile of ${plainText(r.endpoint)}: ${formatCount(r.kept)} samples kept (${formatCount(r.requests)} requests)`,
    ),
  );
}
