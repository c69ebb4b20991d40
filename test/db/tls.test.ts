// sslmode as libpq means it, against a private cluster with TLS on and a certificate made for
// "localhost" by a test CA: require encrypts without verifying; verify-ca checks the chain;
// verify-full checks the chain and the host name; a failure is exit 4, one line and a hint.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/db/connect.js';
import { runCli } from '../helpers/cli.js';
import { canRunPrivateCluster, startPrivateCluster, type PrivateCluster } from '../helpers/private-cluster.js';

function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const possible = canRunPrivateCluster() && haveOpenssl();
if (!possible) console.warn('\n*** NOTICE: no PostgreSQL server binaries or openssl: the TLS tests are SKIPPED ***\n');

/** A CA, and a server certificate it signed for DNS name "localhost" only. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string; otherCa: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=igny8 test CA');
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.crt', '-days', '2', '-subj', '/CN=another CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'ext.cnf');
  return { ca: path.join(dir, 'ca.crt'), cert: path.join(dir, 'server.crt'), key: path.join(dir, 'server.key'), otherCa: path.join(dir, 'other.crt') };
}

describe.skipIf(!possible)('sslmode against a server with TLS (private cluster)', () => {
  let cluster: PrivateCluster;
  let certs: ReturnType<typeof makeCertificates>;
  const home = mkdtempSync(path.join(tmpdir(), 'igny8-home-'));

  beforeAll(async () => {
    certs = makeCertificates(mkdtempSync(path.join(tmpdir(), 'igny8-certs-')));
    cluster = startPrivateCluster({ tls: { cert: certs.cert, key: certs.key } });
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    await client.end();
  });
  afterAll(() => cluster?.stop());

  /** `migrate status` over a key=value string (HOME elsewhere: no ~/.postgresql certificates). */
  const status = (dsn: string) => runCli(['migrate', 'status'], { env: { HOME: home, DATABASE_URL: `${dsn} port=${cluster.port} user=postgres dbname=postgres` } });

  /** Whether igny8's connection under `dsn` is encrypted, as the server sees it. */
  async function encrypted(dsn: string): Promise<boolean> {
    const db = await connect({ databaseUrl: `${dsn} port=${cluster.port} user=postgres dbname=postgres`, env: { HOME: home } });
    try {
      return (await db.knex.raw('select ssl from pg_stat_ssl where pid = pg_backend_pid()')).rows[0].ssl === true;
    } finally {
      await db.close();
    }
  }

  it('require: encrypted, not verified (a certificate of an unknown CA is accepted)', async () => {
    expect((await status('host=127.0.0.1 sslmode=require')).code).toBe(0);
    expect(await encrypted('host=127.0.0.1 sslmode=require')).toBe(true);
  });

  it('prefer (the default) uses TLS when the server offers it; disable never does', async () => {
    expect(await encrypted('host=127.0.0.1')).toBe(true);
    expect(await encrypted('host=127.0.0.1 sslmode=disable')).toBe(false);
  });

  it('verify-ca: the chain is checked, the host name is not', async () => {
    expect((await status(`host=127.0.0.1 sslmode=verify-ca sslrootcert=${certs.ca}`)).code).toBe(0);
    const wrong = await status(`host=127.0.0.1 sslmode=verify-ca sslrootcert=${certs.otherCa}`);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/the server's certificate failed verification \(sslmode=verify-ca\)/);
    expect(wrong.stderr).toMatch(/hint: sslrootcert must name the CA/);
  });

  it('verify-full: chain and host name; a certificate for another name is exit 4 with a hint', async () => {
    expect((await status(`host=localhost sslmode=verify-full sslrootcert=${certs.ca}`)).code).toBe(0);
    const mismatch = await status(`host=127.0.0.1 sslmode=verify-full sslrootcert=${certs.ca}`);
    expect(mismatch.code).toBe(4);
    expect(mismatch.stderr).toMatch(/failed verification \(sslmode=verify-full\)/);
    expect(mismatch.stderr.trim().split('\n').filter((line) => line.startsWith('error:'))).toHaveLength(2); // the line and its hint, once
  });

  it('verify-full without a root certificate is bad input naming sslrootcert', async () => {
    const result = await status('host=localhost sslmode=verify-full');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/sslrootcert: sslmode=verify-full verifies the server's certificate, and there is no root certificate/);
  });
});
