import type * as vscode from 'vscode';
import type { Services } from '../services';
import { registerInvalidateBy } from './confirm';
import { CommandId } from './ids';

/** Args: `{ tag, force? }`. Dry run first; confirms over the threshold unless force. */
export function register(s: Services): vscode.Disposable {
  return registerInvalidateBy(s, CommandId.InvalidateCacheTag, 'tag', 'RouteLens: Invalidate Cache Tag', 'user:42');
}
