/**
 * A private, real PostgreSQL for tests, from Debian's `postgresql` package: a cluster made by
 * initdb in a temp dir (trust auth, no fsync), `postgres` on a free loopback port with its unix
 * socket in that dir, stopped and removed afterwards. PostgreSQL refuses to run as root, so as
 * root both run as the `postgres` user (runuser) in a directory it owns.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './redis';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  stop(): Promise<void>;
}

/** True when Debian's PostgreSQL 15 binaries are installed. */
export function hasPostgres(): boolean {
  return existsSync(join(PG_BIN, 'postgres'));
}

export async function startPostgres(): Promise<TestPostgres> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'routelens-pg-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const run = (bin: string, args: string[]): [string, string[]] => (asRoot ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, bin), ...args]] : [join(PG_BIN, bin), args]);
  if (asRoot) {
    const { uid, gid } = pgUser();
    chownSync(dir, uid, gid);
  }
  const [initCmd, initArgs] = run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C']);
  execFileSync(initCmd, initArgs, { stdio: 'ignore' });
  const [cmd, args] = run('postgres', ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']);
  // Its own process group: runuser passes signals to its group, which must not include the test run.
  const child: ChildProcess = spawn(cmd, args, { stdio: 'ignore', detached: true });
  child.on('error', () => {});
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitForPort(port, 15_000, 'postgres');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await untilReady(url);
  return {
    port,
    url,
    stop: async () => {
      // SIGINT to the postmaster itself (runuser does not pass it on): PostgreSQL's fast shutdown.
      const pid = postmasterPid(data);
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGINT');
        } catch {
          /* gone already */
        }
        await untilGone(pid);
      }
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function untilGone(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function pgUser(): { uid: number; gid: number } {
  return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) };
}

/** The port listens before the database accepts queries ("the database system is starting up"). */
async function untilReady(url: string): Promise<void> {
  const { Client } = (await import('pg')).default;
  const deadline = Date.now() + 15_000;
  for (;;) {
    const client = new Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
