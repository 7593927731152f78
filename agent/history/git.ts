/**
 * The git state the history tags each minute with, read from `.git` itself:
 * HEAD, the loose ref it names or `packed-refs`, and a worktree's `.git` file
 * (`gitdir: …`, with `commondir` pointing at the shared refs). Reading HEAD
 * costs two small file reads, so it is read at every flush; git itself is
 * spawned only for "dirty" (`git status --porcelain --untracked-files=no`):
 * once at start and again only when the commit or branch changes. Never
 * throws: no repository, no git binary or a broken `.git` give undefined / clean.
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { GitState } from '../../protocol/history';

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const STATUS_TIMEOUT_MS = 10_000;

export interface GitDirs {
  /** Where HEAD is (a worktree's own directory). */
  gitDir: string;
  /** Where refs and packed-refs are (the main repository's `.git`). */
  commonDir: string;
  /** The work tree's root. */
  root: string;
}

/** The `.git` of the work tree containing `cwd`, walking up; undefined outside any. */
export async function findGitDirs(cwd: string): Promise<GitDirs | undefined> {
  let dir = resolve(cwd);
  for (;;) {
    const dotGit = join(dir, '.git');
    const s = await stat(dotGit).catch(() => undefined);
    if (s?.isDirectory()) return { gitDir: dotGit, commonDir: await commonDirOf(dotGit), root: dir };
    if (s?.isFile()) {
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(await readText(dotGit));
      if (m) {
        const gitDir = resolve(dir, m[1]!);
        return { gitDir, commonDir: await commonDirOf(gitDir), root: dir };
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function commonDirOf(gitDir: string): Promise<string> {
  const common = (await readText(join(gitDir, 'commondir'))).trim();
  return common ? resolve(gitDir, common) : gitDir;
}

async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => '');
}

/** The commit a ref names: its loose file, else its line in packed-refs. */
export async function resolveRef(dirs: GitDirs, ref: string): Promise<string | undefined> {
  if (!/^refs\/[^\0]+$/.test(ref) || ref.includes('..')) return undefined;
  for (const base of new Set([dirs.gitDir, dirs.commonDir])) {
    const loose = (await readText(join(base, ref))).trim();
    if (SHA.test(loose)) return loose;
    if (loose.startsWith('ref: ')) return resolveRef(dirs, loose.slice(5).trim());
  }
  for (const line of (await readText(join(dirs.commonDir, 'packed-refs'))).split('\n')) {
    const [sha, name] = line.trim().split(' ');
    if (name === ref && sha && SHA.test(sha)) return sha;
  }
  return undefined;
}

/** Commit and branch from HEAD (`HEAD` as the branch when detached); undefined before the first commit. */
export async function readHead(dirs: GitDirs): Promise<{ commit: string; branch: string } | undefined> {
  const head = (await readText(join(dirs.gitDir, 'HEAD'))).trim();
  if (SHA.test(head)) return { commit: head, branch: 'HEAD' };
  if (!head.startsWith('ref: ')) return undefined;
  const ref = head.slice(5).trim();
  const commit = await resolveRef(dirs, ref);
  return commit ? { commit, branch: ref.replace(/^refs\/heads\//, '') } : undefined;
}

/** The repository's default branch: origin's HEAD, else `main` or `master` when it exists, else `main`. */
export async function defaultBranch(dirs: GitDirs): Promise<string> {
  const origin = (await readText(join(dirs.commonDir, 'refs/remotes/origin/HEAD'))).trim();
  const m = /^ref: refs\/remotes\/origin\/(.+)$/.exec(origin);
  if (m) return m[1]!;
  for (const name of ['main', 'master']) if (await resolveRef(dirs, `refs/heads/${name}`)) return name;
  return 'main';
}

/** Whether tracked files differ from HEAD (one `git status`); false when git cannot tell. */
export function isDirty(root: string): Promise<boolean> {
  return new Promise((done) => {
    try {
      execFile('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, timeout: STATUS_TIMEOUT_MS, windowsHide: true }, (err, stdout) => {
        done(!err && stdout.trim().length > 0);
      });
    } catch {
      done(false);
    }
  });
}

/** The current git state, re-read at each call; `dirty` refreshed only when commit or branch moved. */
export class GitWatcher {
  private dirs: Promise<GitDirs | undefined> | undefined;
  private last: GitState | undefined;

  constructor(private readonly cwd: string) {}

  private find(): Promise<GitDirs | undefined> {
    return (this.dirs ??= findGitDirs(this.cwd).catch(() => undefined));
  }

  async state(): Promise<GitState | undefined> {
    try {
      const dirs = await this.find();
      const head = dirs && (await readHead(dirs));
      if (!dirs || !head) return (this.last = undefined);
      if (this.last?.commit !== head.commit || this.last.branch !== head.branch) {
        this.last = { ...head, dirty: await isDirty(dirs.root) };
      }
      return this.last;
    } catch {
      return undefined;
    }
  }

  /** The state found by the latest `state()` (undefined before it resolves). */
  current(): GitState | undefined {
    return this.last;
  }

  async defaultBranch(): Promise<string> {
    const dirs = await this.find();
    return dirs ? defaultBranch(dirs).catch(() => 'main') : 'main';
  }
}
