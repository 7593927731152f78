import * as vscode from 'vscode';

/**
 * Options every RouteLens picker and input box shares.
 *
 * When a webview (our dashboard, a Markdown preview…) is the active editor, a
 * picker opened by a command run from the command palette loses its focus a
 * moment after it shows: closing the palette hands focus back to the webview,
 * and that arrives late (microsoft/vscode#93950). The picker then hides itself
 * and the command looks like it did nothing. Keeping it open on focus loss in
 * that case is the only lever an extension has; elsewhere VS Code's usual
 * behaviour (close on focus loss) stays. Escape still closes it.
 */
export function promptOptions(): { ignoreFocusOut: boolean } {
  return { ignoreFocusOut: vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputWebview };
}
