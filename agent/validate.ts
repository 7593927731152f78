/**
 * protocol/validate.ts (its zod schemas) loaded at its first use: the first message or command a
 * client sends, or a `thresholds` option. An agent that no editor talks to never loads zod, about
 * 3 MB of the app's heap.
 */
type Validation = typeof import('../protocol/validate');

let loaded: Validation | undefined;

export function validation(): Validation {
  return (loaded ??= require('../protocol/validate') as Validation);
}
