// A repair killed with SIGKILL in the middle of a batch: the batches committed before it
// stay (each with its log rows), the open one vanishes whole, and a rerun completes.
// The runner's beforeCommit seam (test/helpers/repair-runner.mjs) holds a batch open after its writes.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeOnServer, type TestDatabase } from '../helpers/databases.js';
import { runCli } from '../helpers/cli.js';
import { checkCount, seedAndMigrateToGate, TEST_KEY } from '../helpers/repair-fixtures.js';
import { all, count } from '../helpers/sql.js';

const RUNNER = fileURLToPath(new URL('../helpers/repair-runner.mjs', import.meta.url));
const TABLES = ['igny8_accounts', 'igny8_credit_transactions', 'igny8_repair_log'];

/** A digest of every row of the tables a repair of the ledger touches. */
async function fingerprint(t: TestDatabase): Promise<Record<string, string>> {
  const [row] = await all<Record<string, string>>(
    t.db.knex,
    `select ${TABLES.map(
      (table) => `(select coalesce(md5(string_agg(to_jsonb(x)::text, ',' order by x.id)), '') from ${table} x) as "${table}"`,
    ).join(', ')}`,
  );
  return row;
}

// On the server only: the test reads the database from a second session while the killed
// process' batch is open, which the embedded database (one process at a time) cannot allow.
describeOnServer('a repair killed mid-way (SIGKILL) [postgres]', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    await seedAndMigrateToGate(t.db, { accounts: 200, seed: 9, defects: ['credit-balance-drift'] });
  });
  afterAll(async () => {
    await t.drop();
  });

  it('leaves the database exactly as before the open transaction, and the rerun completes', async () => {
    const drifted = await checkCount(t.db.knex, 'credit-balance-drift');
    expect(drifted).toBeGreaterThanOrEqual(6);
    const ledger = await count(t.db.knex, 'igny8_credit_transactions');

    const child = spawn(process.execPath, [RUNNER, 'credit-balance-drift', '2', '2'], {
      env: { ...process.env, ...t.env, IGNY8_SECRET_KEY: TEST_KEY, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no pause seen; stderr: ${stderr}`)), 60_000);
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
        if (stderr.includes('credit-balance-drift batch 2 written, not committed')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // Batch 1 is committed; batch 2 is written but open. What everyone else sees now is the
    // state before batch 2's transaction.
    const beforeOpenBatch = await fingerprint(t);
    expect(await count(t.db.knex, 'igny8_credit_transactions')).toBe(ledger + 2);
    child.kill('SIGKILL');
    expect((await exited).signal).toBe('SIGKILL');

    expect(await fingerprint(t)).toEqual(beforeOpenBatch);
    expect(await count(t.db.knex, 'igny8_repair_log')).toBe(2);
    expect(await checkCount(t.db.knex, 'credit-balance-drift')).toBe(drifted - 2);
    // The killed session's row locks went with it: nothing is left waiting.
    const waiting = await all(t.db.knex, `select pid from pg_locks where not granted and database = (select oid from pg_database where datname = current_database())`);
    expect(waiting).toEqual([]);

    const rerun = await runCli(['repair', 'credit-balance-drift', '--yes'], { env: { ...t.env, IGNY8_SECRET_KEY: TEST_KEY } });
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain(`credit-balance-drift: repaired ${drifted - 2} rows`);
    expect(await checkCount(t.db.knex, 'credit-balance-drift')).toBe(0);
    expect(await count(t.db.knex, 'igny8_credit_transactions')).toBe(ledger + drifted);
    expect(await count(t.db.knex, 'igny8_repair_log')).toBe(drifted);
  }, 120_000);
});

describeOnServer('two repairs at once [postgres]', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase('postgres');
    await seedAndMigrateToGate(t.db, { accounts: 150, seed: 4 });
  });
  afterAll(async () => {
    await t.drop();
  });

  it('take turns: every row is repaired once, and nothing twice', async () => {
    const orphans = await checkCount(t.db.knex, 'orphan-users');
    const drifted = await checkCount(t.db.knex, 'credit-balance-drift');
    expect(orphans).toBeGreaterThan(0);
    const env = { ...t.env, IGNY8_SECRET_KEY: TEST_KEY };
    const [a, b] = await Promise.all([
      runCli(['--json', 'repair', '--all', '--yes'], { env }),
      runCli(['--json', 'repair', '--all', '--yes'], { env }),
    ]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const repaired = (out: string, id: string) =>
      (JSON.parse(out) as { repairs: Array<{ checkId: string; repaired?: number }> }).repairs.find((r) => r.checkId === id)?.repaired ?? 0;
    expect(repaired(a.stdout, 'orphan-users') + repaired(b.stdout, 'orphan-users')).toBe(orphans);
    expect(repaired(a.stdout, 'credit-balance-drift') + repaired(b.stdout, 'credit-balance-drift')).toBe(drifted);
    expect(await count(t.db.knex, 'igny8_accounts', `slug like 'recovered-%'`)).toBeLessThanOrEqual(orphans);
    expect(await checkCount(t.db.knex, 'orphan-users')).toBe(0);
    expect(await checkCount(t.db.knex, 'credit-balance-drift')).toBe(0);
  }, 120_000);
});
