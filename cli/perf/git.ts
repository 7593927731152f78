/** Git facts for a report, and a temporary worktree of another ref (`routelens compare --base`). */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface GitInfo {
  commit: string;
  branch: string;
  dirty: boolean;
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** Undefined outside a git repository (or without git). */
export function gitInfo(cwd: string): GitInfo | undefined {
  try {
    const commit = git(cwd, ['rev-parse', 'HEAD']);
    const branch = git(cwd, ['rev-parse', '--abbrev-ref', 'HEAD']);
    const dirty = git(cwd, ['status', '--porcelain', '--untracked-files=no']) !== '';
    return { commit, branch, dirty };
  } catch {
    return undefined;
  }
}

export class GitRefError extends Error {}

/**
 * Checks `ref` out into a new temporary worktree of the repository at `cwd` and installs its
 * dependencies the way the project does (`npm ci` when it has a package-lock.json). Returns
 * the worktree's directory and a function that removes it.
 */
export function checkoutBase(cwd: string, ref: string, log: (line: string) => void): { dir: string; remove(): void } {
  let top: string;
  try {
    top = git(cwd, ['rev-parse', '--show-toplevel']);
  } catch {
    throw new GitRefError(`--base needs a git repository: ${cwd} is not inside one`);
  }
  let commit: string;
  try {
    commit = git(cwd, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    throw new GitRefError(`--base ${JSON.stringify(ref)} is not a commit, branch or tag of this repository (git fetch it first?)`);
  }
  const dir = join(mkdtempSync(join(tmpdir(), 'routelens-base-')), 'tree');
  git(top, ['worktree', 'add', '--detach', dir, commit]);
  const remove = () => {
    try {
      git(top, ['worktree', 'remove', '--force', dir]);
    } catch {
      rmSync(dir, { recursive: true, force: true });
      try {
        git(top, ['worktree', 'prune']);
      } catch {
        // nothing more to clean
      }
    }
  };
  try {
    const sub = cwd.startsWith(top) ? cwd.slice(top.length) : '';
    const appDir = join(dir, sub);
    if (existsSync(join(appDir, 'package.json'))) {
      const lock = existsSync(join(appDir, 'package-lock.json')) || existsSync(join(appDir, 'npm-shrinkwrap.json'));
      log(`installing the base (${ref}, ${commit.slice(0, 12)}) with npm ${lock ? 'ci' : 'install'}…`);
      execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', lock ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'], { cwd: appDir, stdio: ['ignore', 'ignore', 'pipe'] });
    }
    return { dir: appDir, remove };
  } catch (err) {
    remove();
    throw err;
  }
}
