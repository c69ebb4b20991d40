// A PostgreSQL server of a test's own: initdb in a temporary directory, its own port and
// socket, started, restarted and stopped at will. For faults the shared server must never
// suffer (a restart), run as the postgres user since initdb refuses root.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PrivateCluster {
  url: string;
  restart(): void;
  stop(): void;
}

/** Whether this machine can make one: the server binaries, and (as root) a postgres user. */
export function canRunPrivateCluster(): boolean {
  return existsSync(path.join(BIN, 'initdb'));
}

function asPostgres(command: string, args: string[]): string {
  const root = userInfo().uid === 0;
  return execFileSync(root ? 'runuser' : command, root ? ['-u', 'postgres', '--', command, ...args] : args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function startPrivateCluster(port: number): PrivateCluster {
  const dir = mkdtempSync(path.join(tmpdir(), 'igny8-cluster-'));
  if (userInfo().uid === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), 0);
  const data = path.join(dir, 'data');
  asPostgres(path.join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const ctl = (...args: string[]) => asPostgres(path.join(BIN, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', ...args]);
  ctl('-o', options, 'start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => void ctl('-m', 'fast', '-o', options, 'restart'),
    stop() {
      try {
        ctl('-m', 'immediate', 'stop');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
