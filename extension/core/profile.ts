/** The rules of "Profile Route…" that need no vscode (unit-tested). */

export const DEFAULT_PROFILE_SECONDS = 10;
/** The agent's limits on `profile.start` (protocol/validate.ts). */
export const MIN_PROFILE_SECONDS = 1;
export const MAX_PROFILE_SECONDS = 120;
/** Beyond the profile's own seconds: time for the agent to stop the profiler, filter and write the file. */
export const PROFILE_WRITE_MARGIN_MS = 20_000;

/** The input box's check: undefined when `text` is a usable number of seconds. */
export function secondsError(text: string): string | undefined {
  const n = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(n) && n >= MIN_PROFILE_SECONDS && n <= MAX_PROFILE_SECONDS ? undefined : `A number of seconds from ${MIN_PROFILE_SECONDS} to ${MAX_PROFILE_SECONDS}`;
}
