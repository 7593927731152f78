import type * as vscode from 'vscode';
import type { Services } from '../services';
import { registerInvalidateBy } from './confirm';
import { CommandId } from './ids';

/** Args: `{ pattern, force? }` (glob: `*` and `?`). Dry run first; confirms over the threshold unless force. */
export function register(s: Services): vscode.Disposable {
  return registerInvalidateBy(s, CommandId.InvalidateCachePattern, 'pattern', 'RouteLens: Invalidate Cache Keys Matching', 'user:*');
}
