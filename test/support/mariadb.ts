/**
 * A private, real MariaDB for tests, from Debian's `mariadb-server` package (MySQL's wire
 * protocol, for mysql2): a data dir made by mariadb-install-db in a temp dir, `mariadbd` on a
 * free loopback port with its socket in that dir and grant tables skipped (any user, no
 * password), stopped and removed afterwards. As root the server runs as the `mysql` user.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './redis';

export interface TestMariaDb {
  port: number;
  /** `mysql://root@127.0.0.1:<port>/test` (the `test` database exists). */
  url: string;
  stop(): Promise<void>;
}

export function hasMariaDb(): boolean {
  return existsSync('/usr/sbin/mariadbd') && existsSync('/usr/bin/mariadb-install-db');
}

export async function startMariaDb(): Promise<TestMariaDb> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'routelens-mariadb-'));
  const data = join(dir, 'data');
  const asRoot = userInfo().uid === 0;
  const user = asRoot ? ['--user=mysql'] : [];
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'mysql']).toString()), Number(execFileSync('id', ['-g', 'mysql']).toString()));
  execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${data}`, ...user, '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'ignore' });
  const child: ChildProcess = spawn(
    '/usr/sbin/mariadbd',
    [
      '--no-defaults',
      `--datadir=${data}`,
      ...user,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${join(dir, 'mariadb.sock')}`,
      `--pid-file=${join(dir, 'mariadb.pid')}`,
      '--skip-grant-tables',
      '--skip-name-resolve',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=16M',
      '--innodb-flush-log-at-trx-commit=0',
      '--init-file=' + initFile(dir),
    ],
    { stdio: 'ignore' },
  );
  child.on('error', () => {});
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitForPort(port, 20_000, 'mariadbd');
  return {
    port,
    url: `mysql://root@127.0.0.1:${port}/test`,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates the `test` database at start-up. */
function initFile(dir: string): string {
  const file = join(dir, 'init.sql');
  execFileSync('sh', ['-c', `printf 'CREATE DATABASE IF NOT EXISTS test;\\n' > '${file}' && chmod 644 '${file}'`]);
  return file;
}
