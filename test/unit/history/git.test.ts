/** The git state read from `.git` (HEAD, loose refs, packed-refs, worktrees) on real repositories made with git. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitWatcher, defaultBranch, findGitDirs, readHead } from '../../../agent/history/git';
import { git } from '../../support/git';


describe('history git state', () => {
  let root: string;
  let repo: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'routelens-git-'));
    repo = join(root, 'repo');
    await mkdir(repo);
    git(repo, 'init', '-q', '-b', 'trunk');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  async function commit(message: string): Promise<string> {
    await writeFile(join(repo, 'file.txt'), message);
    git(repo, 'add', 'file.txt');
    git(repo, 'commit', '-q', '-m', message);
    return git(repo, 'rev-parse', 'HEAD');
  }

  it('has no state before the first commit, then the commit and branch of HEAD, from a subdirectory too', async () => {
    const w = new GitWatcher(repo);
    assert.equal(await w.state(), undefined);
    const sha = await commit('one');
    await mkdir(join(repo, 'src'));
    assert.deepEqual(await new GitWatcher(join(repo, 'src')).state(), { commit: sha, branch: 'trunk', dirty: false });
  });

  it('follows HEAD as it moves: a new commit, another branch, a detached HEAD', async () => {
    const first = await commit('one');
    const w = new GitWatcher(repo);
    assert.equal((await w.state())?.commit, first);
    const second = await commit('two');
    assert.equal((await w.state())?.commit, second);
    git(repo, 'checkout', '-q', '-b', 'feature');
    assert.deepEqual(await w.state(), { commit: second, branch: 'feature', dirty: false });
    git(repo, 'checkout', '-q', first);
    assert.deepEqual(await w.state(), { commit: first, branch: 'HEAD', dirty: false });
  });

  it('reads refs from packed-refs', async () => {
    const sha = await commit('one');
    git(repo, 'pack-refs', '--all', '--prune');
    const dirs = (await findGitDirs(repo))!;
    assert.deepEqual(await readHead(dirs), { commit: sha, branch: 'trunk' });
  });

  it('is dirty when tracked files differ from HEAD (one git status when the commit moves)', async () => {
    await commit('one');
    await writeFile(join(repo, 'file.txt'), 'changed');
    assert.equal((await new GitWatcher(repo).state())?.dirty, true);
    git(repo, 'stash', '-q');
    assert.equal((await new GitWatcher(repo).state())?.dirty, false);
  });

  it('reads a linked worktree (a .git file pointing at its gitdir, refs in the common dir)', async () => {
    await commit('one');
    git(repo, 'branch', 'side');
    const wt = join(root, 'wt');
    git(repo, 'worktree', 'add', '-q', wt, 'side');
    await writeFile(join(wt, 'file.txt'), 'wt');
    git(wt, 'commit', '-q', '-am', 'in worktree');
    const sha = git(wt, 'rev-parse', 'HEAD');
    assert.deepEqual(await new GitWatcher(wt).state(), { commit: sha, branch: 'side', dirty: false });
  });

  it("finds the default branch: origin's HEAD, else main, else master, else main", async () => {
    await commit('one');
    const dirs = (await findGitDirs(repo))!;
    assert.equal(await defaultBranch(dirs), 'main');
    git(repo, 'branch', 'master');
    assert.equal(await defaultBranch(dirs), 'master');
    git(repo, 'branch', 'main');
    assert.equal(await defaultBranch(dirs), 'main');
    await mkdir(join(repo, '.git/refs/remotes/origin'), { recursive: true });
    await writeFile(join(repo, '.git/refs/remotes/origin/HEAD'), 'ref: refs/remotes/origin/develop\n');
    assert.equal(await defaultBranch(dirs), 'develop');
  });

  it('outside any repository: no state, default branch main', async () => {
    const w = new GitWatcher(join(root));
    assert.equal(await w.state(), undefined);
    assert.equal(await w.defaultBranch(), 'main');
  });
});
