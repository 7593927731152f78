import { execFileSync } from 'node:child_process';

/** Runs git in `cwd` as a throwaway identity (no signing), answering its trimmed output: for tests that build a repository. */
export const git = (cwd: string, ...args: string[]): string => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'commit.gpgsign=false', ...args], { cwd, encoding: 'utf8' }).trim();
