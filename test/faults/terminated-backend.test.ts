// A backend terminated under a command (pg_terminate_backend: an operator, a failover, a
// pooler recycling connections): `migrate` and `repair` stop with exit 4 naming the lost
// connection, nothing of the interrupted transaction is kept, and the rerun completes.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { createTestDatabase, describeOnServer, type TestDatabase } from '../helpers/databases.js';
import { TEST_KEY } from '../helpers/repair-fixtures.js';

/** Runs igny8 while another session holds `lock`, terminating igny8's backend once it waits on it. */
async function terminatedWhileWaiting(t: TestDatabase, args: string[], lock: string) {
  const holder = new pg.Client({ connectionString: t.url });
  await holder.connect();
  try {
    await holder.query('begin');
    await holder.query(lock);
    const running = runCli(args, { env: { DATABASE_URL: t.url!, IGNY8_SECRET_KEY: TEST_KEY, PGAPPNAME: 'igny8-terminated' } });
    let terminated = 0;
    for (let i = 0; i < 400 && terminated === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const admin = new pg.Client({ connectionString: t.url });
      await admin.connect();
      const rows = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'igny8-terminated' and wait_event_type = 'Lock'`,
      );
      await admin.end();
      terminated = rows.rowCount ?? 0;
    }
    expect(terminated).toBeGreaterThan(0);
    return await running;
  } finally {
    await holder.query('rollback');
    await holder.end();
  }
}

async function scalar(t: TestDatabase, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  try {
    return Number(Object.values((await client.query(sql)).rows[0])[0]);
  } finally {
    await client.end();
  }
}

describeOnServer('a backend terminated mid-command', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    const env = { DATABASE_URL: t.url!, IGNY8_SECRET_KEY: TEST_KEY };
    expect((await runCli(['seed', 'legacy', '--accounts', '300', '--seed', '6'], { env })).code).toBe(0);
  }, 120_000);
  afterAll(() => t.drop());

  it('migrate: exit 4, the migration in progress not recorded, the rerun goes on', async () => {
    const result = await terminatedWhileWaiting(t, ['migrate', '--to', '0004_rename_tenants_to_accounts'], 'lock table igny8_tenants in access share mode');
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/the connection to the database was lost/);
    expect(await scalar(t, `select count(*) from igny8_migrations where name = '0004_rename_tenants_to_accounts'`)).toBe(0);
    expect(await scalar(t, `select count(*) from pg_class where relname = 'igny8_tenants'`)).toBe(1);
    const rerun = await runCli(['migrate', '--to', '0004_rename_tenants_to_accounts'], { env: { DATABASE_URL: t.url!, IGNY8_SECRET_KEY: TEST_KEY } });
    expect(rerun.code).toBe(0);
  });

  it('repair --yes: exit 4, the batch in progress not written or logged, the rerun completes', async () => {
    const logged = await scalar(t, 'select count(*) from igny8_repair_log');
    const result = await terminatedWhileWaiting(t, ['repair', 'credit-balance-drift', '--yes'], 'lock table igny8_accounts in exclusive mode');
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/the connection to the database was lost/);
    expect(await scalar(t, 'select count(*) from igny8_repair_log')).toBe(logged);
    const rerun = await runCli(['repair', 'credit-balance-drift', '--yes'], { env: { DATABASE_URL: t.url!, IGNY8_SECRET_KEY: TEST_KEY } });
    expect(rerun.code).toBe(0);
    const audit = await runCli(['--json', 'audit', '--check', 'credit-balance-drift'], { env: { DATABASE_URL: t.url! } });
    expect(JSON.parse(audit.stdout).checks[0].count).toBe(0);
  });
});
