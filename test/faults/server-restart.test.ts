// A server restart, on a private cluster of the test's own (never the shared server): between
// two commands the next one simply connects again; during one, the command stops with exit 4
// naming the lost connection, nothing of its transaction kept, and the next run succeeds.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { canRunPrivateCluster, startPrivateCluster, type PrivateCluster } from '../helpers/private-cluster.js';

const required = process.env.CI === 'true' || process.env.IGNY8_REQUIRE_SERVER === '1';
if (!canRunPrivateCluster()) {
  if (required) throw new Error('the PostgreSQL server binaries (initdb, pg_ctl) are missing, and CI requires the restart tests');
  console.warn('\n*** NOTICE: no PostgreSQL server binaries: the server-restart tests are SKIPPED ***\n');
}

describe.skipIf(!canRunPrivateCluster())('a server restart (private cluster)', () => {
  let cluster: PrivateCluster;
  let env: Record<string, string>;
  beforeAll(() => {
    cluster = startPrivateCluster();
    env = { DATABASE_URL: cluster.url };
  });
  afterAll(() => cluster?.stop());

  it('between two commands: the second connects again and finds what the first committed', async () => {
    expect((await runCli(['migrate'], { env })).code).toBe(0);
    cluster.restart();
    const status = await runCli(['--json', 'migrate', 'status'], { env });
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout).migrations as Array<{ state: string }>).every((row) => row.state === 'applied')).toBe(true);
  });

  it('during a command: exit 4 naming the lost connection; the next run succeeds', async () => {
    const holder = new pg.Client({ connectionString: cluster.url });
    await holder.connect();
    await holder.query('begin');
    await holder.query('lock table igny8_users in access exclusive mode');
    const running = runCli(['audit'], { env: { ...env, PGAPPNAME: 'igny8-restart' } });
    // Restart once the audit is waiting on the lock (mid-transaction).
    for (let i = 0; i < 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const probe = new pg.Client({ connectionString: cluster.url });
      await probe.connect();
      const rows = await probe.query(`select 1 from pg_stat_activity where application_name = 'igny8-restart' and wait_event_type = 'Lock'`);
      await probe.end();
      if (rows.rowCount) break;
    }
    holder.on('error', () => undefined); // the restart ends this session too
    cluster.restart();
    const result = await running;
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/the connection to the database was lost|database unreachable/);
    const next = await runCli(['audit'], { env });
    expect([0, 1]).toContain(next.code);
  });
});
