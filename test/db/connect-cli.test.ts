// Pointing igny8 at a database as an ops engineer does: the PG* variables, the line that
// names the database, TLS as libpq means it, an unadopted legacy database, and exit codes
// that tell the truth (lock timeout, permission denied, a connection lost mid-run).
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, stderrBesidesDatabase } from '../helpers/cli.js';
import { createTestDatabase, describeOnServer, SERVER_URL, type TestDatabase } from '../helpers/databases.js';

async function admin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describeOnServer('igny8 on a server named as psql users name it', () => {
  let t: TestDatabase;
  let env: Record<string, string>;
  const cwd = mkdtempSync(path.join(tmpdir(), 'igny8-cwd-'));

  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    const url = new URL(t.url!);
    // As a psql user has them: no DATABASE_URL, only the libpq variables.
    env = { PGHOST: url.hostname, PGPORT: url.port || '5432', PGUSER: decodeURIComponent(url.username), PGDATABASE: url.pathname.slice(1) };
  });
  afterAll(() => t.drop());

  it('PGHOST and PGDATABASE select the server; the command names it on stderr and creates no embedded database', async () => {
    const result = await runCli(['migrate', '--to', '0001_legacy_baseline'], { env, cwd });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`database: ${env.PGDATABASE} on ${env.PGHOST}:${env.PGPORT} as ${env.PGUSER}\n`);
    expect(existsSync(path.join(cwd, '.igny8'))).toBe(false);
  });

  it('an un-adopted legacy database is met where it is: migrate and status say to adopt it (exit 3)', async () => {
    await admin(t.url!, (client) => client.query('drop table igny8_migrations'));
    for (const args of [['migrate'], ['migrate', 'status']]) {
      const result = await runCli(args, { env, cwd });
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/holds the legacy igny8 tables, but igny8 has not adopted it/);
      expect(result.stderr).toMatch(/run `igny8 migrate adopt` first/);
    }
    const adopted = await runCli(['migrate', 'adopt'], { env, cwd });
    expect(adopted.code).toBe(0);
  });

  it('--json documents carry the database; --quiet drops the line', async () => {
    const json = await runCli(['--json', 'migrate', 'status'], { env, cwd });
    expect(JSON.parse(json.stdout).database).toEqual({
      kind: 'postgres',
      host: env.PGHOST,
      port: Number(env.PGPORT),
      database: env.PGDATABASE,
      user: env.PGUSER,
    });
    const quiet = await runCli(['--quiet', 'migrate', 'status'], { env, cwd });
    expect(quiet.stderr).toBe('');
  });

  it('sslmode=require against a server without TLS: exit 4, one line and a hint, printed once', async () => {
    const result = await runCli(['audit'], { env: { ...env, PGSSLMODE: 'require' }, cwd });
    expect(result.code).toBe(4);
    expect(result.stderr.trim().split('\n')).toEqual([
      `error: cannot connect to ${env.PGDATABASE} on ${env.PGHOST}:${env.PGPORT} as ${env.PGUSER}: the server does not accept TLS, and sslmode=require requires it`,
      'error:   hint: sslmode=prefer uses TLS when the server offers it; sslmode=disable never does',
    ]);
  });

  it('sslmode=prefer falls back to a plain connection, as libpq does; disable never tries TLS', async () => {
    for (const mode of ['prefer', 'disable', 'allow']) {
      const result = await runCli(['migrate', 'status'], { env: { ...env, PGSSLMODE: mode }, cwd });
      expect(result.code).toBe(0);
    }
  });

  it('a key=value string on -d works like the URL', async () => {
    const dsn = `host=${env.PGHOST} port=${env.PGPORT} user=${env.PGUSER} dbname=${env.PGDATABASE}`;
    const result = await runCli(['-d', dsn, 'migrate', 'status'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`^database: ${env.PGDATABASE} on`));
  });

  it('an unknown --to is bad input (2); down with nothing after the target says so', async () => {
    const unknown = await runCli(['migrate', '--to', '9999_nope'], { env, cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--to: no migration is named "9999_nope"/);
    const down = await runCli(['migrate', 'down', '--to', '0001_legacy_baseline'], { env, cwd });
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/nothing to revert: no migration is applied after 0001_legacy_baseline/);
  });

  it('catalog commands on an unmigrated database refuse with the way forward (3)', async () => {
    const empty = await createTestDatabase('postgres');
    try {
      for (const args of [['catalog', 'show'], ['catalog', 'sync']]) {
        const result = await runCli(args, { env: { DATABASE_URL: empty.url! } });
        expect(result.code).toBe(3);
        expect(result.stderr).toMatch(/igny8 migrate/);
      }
    } finally {
      await empty.drop();
    }
  });

  it('a lock held by another session: exit 3 naming the table, the holder and the retry', async () => {
    await runCli(['migrate', '--to', '0007_subscriptions_plan_id'], { env, cwd });
    const holder = new pg.Client({ connectionString: t.url!, application_name: 'report-job' });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table igny8_users in share mode');
      const pid = (await holder.query('select pg_backend_pid() as pid')).rows[0].pid as number;
      const result = await runCli(['migrate', '--to', '0008_users_account_not_null', '--lock-timeout', '300ms'], { env, cwd });
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/a table lock was not granted in time/);
      expect(result.stderr).toContain(`held by pid ${pid} (report-job): ShareLock on igny8_users`);
      expect(result.stderr).toMatch(/query started \d{4}-/);
      expect(result.stderr).toMatch(/retry when that session has finished, or raise --lock-timeout/);
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
  });

  it('permission denied: exit 4 naming the table and the privilege, never the SQL', async () => {
    const role = `igny8_noaccess_${Math.random().toString(16).slice(2, 8)}`;
    await admin(SERVER_URL, (client) => client.query(`create role ${role} login`));
    try {
      const result = await runCli(['audit'], { env: { ...env, PGUSER: role }, cwd });
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/permission denied: this role lacks SELECT on table igny8_\w+/);
      expect(result.stderr).toMatch(/docs\/privileges\.md/);
      expect(result.stderr).not.toMatch(/\bfrom\b|\bselect \w/);
    } finally {
      await admin(t.url!, (client) => client.query(`drop owned by ${role}`));
      await admin(SERVER_URL, (client) => client.query(`drop role ${role}`));
    }
  });

  it('a connection terminated mid-run: exit 4 with the cause, not an internal error', async () => {
    const holder = new pg.Client({ connectionString: t.url! });
    await holder.connect();
    try {
      // The audit waits on this lock, and its backend is terminated while it waits.
      await holder.query('begin');
      await holder.query('lock table igny8_users in access exclusive mode');
      const running = runCli(['audit'], { env: { ...env, PGAPPNAME: 'igny8-under-test' }, cwd });
      // Another session looks: inside the holder's transaction pg_stat_activity stays as first read.
      let terminated = 0;
      for (let i = 0; i < 200 && terminated === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        const rows = await admin(t.url!, (client) =>
          client.query(
            `select pg_terminate_backend(pid) as done from pg_stat_activity
              where application_name = 'igny8-under-test' and wait_event_type = 'Lock'`,
          ),
        );
        terminated = rows.rowCount ?? 0;
      }
      expect(terminated).toBeGreaterThan(0);
      const result = await running;
      expect(result.code).toBe(4);
      expect(result.stderr).toMatch(/the connection to the database was lost/);
      expect(result.stderr).not.toMatch(/internal error/);
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
  });
});

describe('read-only commands never create an embedded database', () => {
  it.each([
    [['migrate', 'status']],
    [['audit']],
    [['account', 'show', 'acme']],
    [['catalog', 'show']],
  ])('%s on a missing directory: exit 3, nothing created', async (args) => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'igny8-missing-')), 'db');
    const result = await runCli(args, { env: { IGNY8_DATA_DIR: dataDir } });
    expect(result.code).toBe(3);
    expect(stderrBesidesDatabase(result.stderr)).toMatch(/there is no embedded database in .*: nothing to read/);
    expect(existsSync(dataDir)).toBe(false);
  });
});
