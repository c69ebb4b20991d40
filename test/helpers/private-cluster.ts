// A PostgreSQL server of a test's own: initdb in a temporary directory, its own port and
// socket, started, restarted and stopped at will. For faults the shared server must never
// suffer (a restart), run as the postgres user since initdb refuses root.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
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

export interface ClusterOptions {
  /** TLS: the server's certificate and key (PEM files), copied into the cluster for its user. */
  tls?: { cert: string; key: string };
}

export function startPrivateCluster(port: number, options: ClusterOptions = {}): PrivateCluster {
  const dir = mkdtempSync(path.join(tmpdir(), 'igny8-cluster-'));
  if (userInfo().uid === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), 0);
  const data = path.join(dir, 'data');
  asPostgres(path.join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres']);
  let settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  if (options.tls) {
    // The server refuses a key others can read: copies owned by its user, mode 0600.
    for (const [name, source] of [['server.crt', options.tls.cert], ['server.key', options.tls.key]] as const) {
      const target = path.join(data, name);
      copyFileSync(source, target);
      chmodSync(target, 0o600);
      if (userInfo().uid === 0) chownSync(target, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), 0);
    }
    settings += ' -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key';
  }
  const ctl = (...args: string[]) => asPostgres(path.join(BIN, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', ...args]);
  ctl('-o', settings, 'start');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => void ctl('-m', 'fast', '-o', settings, 'restart'),
    stop() {
      try {
        ctl('-m', 'immediate', 'stop');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
