// A PostgreSQL server of a test's own: initdb in a temporary directory, its own port and
// socket, started, restarted and stopped at will. For faults the shared server must never
// suffer (a restart), run as the postgres user since initdb refuses root.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PrivateCluster {
  port: number;
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

/**
 * A port for a private cluster: below the kernel's ephemeral range (32768 and up on Linux), where
 * the suite's own client connections take their local ports, so none of them can hold it.
 */
function freshPort(): number {
  return 20000 + Math.floor(Math.random() * 12000);
}

/** Starts a cluster on a port of its own: another one when the first turns out to be taken. */
export function startPrivateCluster(options: ClusterOptions = {}): PrivateCluster {
  const dir = mkdtempSync(path.join(tmpdir(), 'igny8-cluster-'));
  if (userInfo().uid === 0) chownSync(dir, postgresUid(), 0);
  const data = path.join(dir, 'data');
  const log = path.join(dir, 'log');
  try {
    asPostgres(path.join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres']);
    if (options.tls) {
      // The server refuses a key others can read: copies owned by its user, mode 0600.
      for (const [name, source] of [['server.crt', options.tls.cert], ['server.key', options.tls.key]] as const) {
        const target = path.join(data, name);
        copyFileSync(source, target);
        chmodSync(target, 0o600);
        if (userInfo().uid === 0) chownSync(target, postgresUid(), 0);
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const settingsFor = (at: number) =>
    `-p ${at} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off` +
    (options.tls ? ' -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key' : '');
  // -t: a loaded CI machine may take longer than pg_ctl's default minute to start a server.
  const ctl = (...args: string[]) => asPostgres(path.join(BIN, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '180', ...args]);
  let port = freshPort();
  let settings = settingsFor(port);
  for (let attempt = 1; ; attempt++) {
    try {
      ctl('-o', settings, 'start');
      break;
    } catch (error) {
      const serverLog = existsSync(log) ? readFileSync(log, 'utf8') : '';
      if (attempt < 5 && /could not bind|address already in use/i.test(serverLog)) {
        port = freshPort();
        settings = settingsFor(port);
        rmSync(log, { force: true });
        continue;
      }
      rmSync(dir, { recursive: true, force: true });
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`the private cluster did not start on port ${port}: ${stderr.trim()}\nserver log:\n${serverLog.trim()}`);
    }
  }
  return {
    port,
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

function postgresUid(): number {
  return Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
}
