// Expand and contract: `migrate --phase expand` applies only the expand migrations (also those
// numbered after a pending contract one), `--phase contract` the rest and only once expand is
// complete, no phase both in that order; `migrate status` says where the database stands, and
// down reverts in the order migrations were applied.
import { expect, it } from 'vitest';
import { listMigrationFiles, loadMigration, phaseOf } from '../../src/db/migrations.js';
import { databasePhase, invalidMigrations, migrateDown, migrateLatest, migrationStatus } from '../../src/db/migrator.js';
import { DomainRefusal } from '../../src/errors.js';
import { LEGACY_VIEWS_SCHEMA } from '../../src/schema/legacy-views.js';
import { runCli } from '../helpers/cli.js';
import pg from 'pg';
import { createTestDatabase, describeEachDatabase, describeOnServer, SERVER_URL, withTestDatabase } from '../helpers/databases.js';
import { createLegacySchema, insertLegacyFixture, TEST_SECRET_KEY } from '../helpers/legacy-fixture.js';
import { migrationsDir, raw, writeMigration } from '../helpers/migrations-dir.js';

const env = { IGNY8_SECRET_KEY: TEST_SECRET_KEY };

async function serverAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function tableExists(knex: import('knex').Knex, table: string): Promise<boolean> {
  return (await knex.raw('select to_regclass(?) is not null as present', [table])).rows[0].present as boolean;
}

describeEachDatabase('migration phases (runner)', (fx) => {
  const dir = migrationsDir({
    '0001_a': { phase: 'expand', up: raw('create table ph_a (id int)'), down: raw('drop table ph_a') },
    '0002_b': { phase: 'contract', up: raw('create table ph_b (id int)'), down: raw('drop table ph_b') },
    '0003_c': { phase: 'expand', up: raw('create table ph_c (id int)'), down: raw('drop table ph_c') },
  });
  const names = (run: { results: Array<{ name: string; status: string }> }) => run.results.map((r) => `${r.name} ${r.status}`);

  it('refuses contract while an expand migration is pending, writing nothing', async () => {
    const refused = migrateLatest(fx.db, { migrationsDir: dir, phase: 'contract' });
    await expect(refused).rejects.toBeInstanceOf(DomainRefusal);
    await expect(refused).rejects.toMatchObject({ code: 'expand-pending', exitCode: 3 });
    expect(await tableExists(fx.db.knex, 'ph_a')).toBe(false);
    expect(await tableExists(fx.db.knex, 'ph_b')).toBe(false);
  });

  it('expand applies the expand migrations, also one numbered after a pending contract one', async () => {
    const run = await migrateLatest(fx.db, { migrationsDir: dir, phase: 'expand' });
    expect(names(run)).toEqual(['0001_a applied', '0003_c applied']);
    const status = await migrationStatus(fx.db, dir);
    expect(status.map((row) => [row.name, row.state, row.phase, row.skipped])).toEqual([
      ['0001_a', 'applied', 'expand', false],
      ['0002_b', 'pending', 'contract', false],
      ['0003_c', 'applied', 'expand', false],
    ]);
    expect(databasePhase(status)).toBe('expanded');
    expect((await migrateLatest(fx.db, { migrationsDir: dir, phase: 'expand' })).results).toEqual([]);
  });

  it('down reverts the last applied; no phase runs the pending expand ones before the contract ones', async () => {
    expect(names(await migrateDown(fx.db, { migrationsDir: dir }))).toEqual(['0003_c reverted']);
    expect(databasePhase(await migrationStatus(fx.db, dir))).toBe('expand pending');
    expect(names(await migrateLatest(fx.db, { migrationsDir: dir }))).toEqual(['0003_c applied', '0002_b applied']);
    expect(databasePhase(await migrationStatus(fx.db, dir))).toBe('complete');
    // Newest first by application, not by number.
    expect(names(await migrateDown(fx.db, { migrationsDir: dir, to: '0001_a' }))).toEqual(['0002_b reverted', '0003_c reverted']);
    await migrateDown(fx.db, { migrationsDir: dir, to: '0001_a' });
    await fx.db.knex.raw('drop table if exists ph_a, ph_b, ph_c, igny8_migrations');
  });

  it('a migration added below applied ones is a gap, unless it declares itself independent', async () => {
    const gap = migrationsDir({
      '0001_a': { phase: 'expand', up: raw('create table ph_a (id int)'), down: raw('drop table ph_a') },
      '0003_c': { phase: 'expand', up: raw('create table ph_c (id int)'), down: raw('drop table ph_c') },
    });
    await migrateLatest(fx.db, { migrationsDir: gap });
    writeMigration(gap, '0002_b', { phase: 'expand', up: raw('create table ph_b (id int)'), down: raw('drop table ph_b') });
    writeMigration(gap, '0002_i', { phase: 'expand', independent: true, up: raw('create table ph_i (id int)'), down: raw('drop table ph_i') });
    const status = await migrationStatus(fx.db, gap);
    expect(status.map((row) => [row.name, row.state, row.skipped])).toEqual([
      ['0001_a', 'applied', false],
      ['0002_b', 'pending', true],
      ['0002_i', 'pending', false],
      ['0003_c', 'applied', false],
    ]);
    expect(invalidMigrations(status).map((row) => row.name)).toEqual(['0002_b']);
    expect(names(await migrateLatest(fx.db, { migrationsDir: gap, phase: 'expand' }))).toEqual(['0002_b applied', '0002_i applied']);
    await fx.db.knex.raw('drop table if exists ph_a, ph_b, ph_c, ph_i, igny8_migrations');
  });
});

describeEachDatabase('migration phases (the chain)', (fx) => {
  it('every migration of the chain declares its phase', async () => {
    for (const file of listMigrationFiles()) {
      const migration = await loadMigration(file);
      expect(`${file.name}: ${migration.phase}`).toBe(`${file.name}: ${phaseOf(migration)}`);
    }
  });

  it('expand on a legacy database leaves the legacy names readable and writable in igny8_legacy', async () => {
    await createLegacySchema(fx.db);
    const f = await insertLegacyFixture(fx.db.knex);
    const run = await migrateLatest(fx.db, { env, phase: 'expand' });
    expect(run.error).toBeUndefined();
    const phases = new Map(await Promise.all(listMigrationFiles().map(async (file) => [file.name, phaseOf(await loadMigration(file))] as const)));
    expect(run.results.every((r) => phases.get(r.name) === 'expand' && r.status === 'applied')).toBe(true);
    const status = await migrationStatus(fx.db);
    expect(databasePhase(status)).toBe('expanded');
    await fx.db.knex.transaction(async (trx) => {
      await trx.raw(`set local search_path = ${LEGACY_VIEWS_SCHEMA}, public`);
      const tenant = (await trx.raw(`select id, owner_id, payment_method from igny8_tenants where slug = 'acme'`)).rows[0];
      expect(Number(tenant.id)).toBe(f.accounts.acme);
      expect(tenant.payment_method).toBe('paypal');
      const plan = (await trx.raw(`select max_industries, credits_per_month from igny8_plans where slug = 'pro-legacy'`)).rows[0];
      expect(plan).toEqual({ max_industries: 5, credits_per_month: 5000 });
    });
  });

  it('contract applies the rest and retires the legacy views', async () => {
    const run = await migrateLatest(fx.db, { env, phase: 'contract' });
    expect(run.error).toBeUndefined();
    expect(run.results.length).toBeGreaterThan(0);
    expect(databasePhase(await migrationStatus(fx.db))).toBe('complete');
    const schema = await fx.db.knex.raw(`select count(*)::int as n from pg_namespace where nspname = ?`, [LEGACY_VIEWS_SCHEMA]);
    expect(schema.rows[0].n).toBe(0);
  });
});

describeEachDatabase(
  'igny8 migrate --phase and migrate status',
  (fx) => {
    it('status names the phase, in words and in --json', async () => {
      await withTestDatabase(fx.t, async (db) => {
        await createLegacySchema(db);
        await insertLegacyFixture(db.knex);
      });
      // The plan first: it changes nothing.
      const plan = await runCli(['migrate', '--plan'], { env: fx.t.env });
      expect(plan.code).toBe(0);
      const planText = plan.stdout.replace(/\n {4,}/g, ' ');
      expect(planText).toMatch(/0004_rename_tenants_to_accounts {2}expand/);
      expect(planText).toMatch(/igny8_tenants: ACCESS EXCLUSIVE \(blocks reads and writes\), catalog only/);
      expect(planText).toMatch(/0007_subscriptions_plan_id {2}expand, batched/);
      expect(planText).toMatch(/! reads every row of igny8_users .* holding ACCESS EXCLUSIVE, which blocks reads and writes/);
      const planJson = JSON.parse((await runCli(['migrate', '--plan', '--json'], { env: fx.t.env })).stdout);
      const order = planJson.plan.map((entry: { name: string }) => entry.name);
      expect(order.indexOf('0032_credential_key_registry')).toBeLessThan(order.indexOf('0008_users_account_not_null'));
      const expandPlan = JSON.parse((await runCli(['migrate', '--plan', '--phase', 'expand', '--json'], { env: fx.t.env })).stdout).plan;
      expect(expandPlan.every((entry: { phase: string; warnings: string[] }) => entry.phase === 'expand' && entry.warnings.length === 0)).toBe(true);
      expect(expandPlan.find((entry: { name: string }) => entry.name === '0012_invoices_billing_snapshot')).toMatchObject({
        batched: true,
        locks: [{ table: 'igny8_invoices', mode: 'ACCESS EXCLUSIVE', blocksReads: true, blocksWrites: true, work: 'none' }],
        backfills: [{ table: 'igny8_invoices' }, { table: 'igny8_invoices' }],
      });
      expect(JSON.parse((await runCli(['migrate', 'status', '--json'], { env: fx.t.env })).stdout).phase).toBe('expand pending');
      const unknown = await runCli(['migrate', '--plan', '--to', '9999_nope'], { env: fx.t.env });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toMatch(/--to: no migration is named "9999_nope"/);
      const expand = await runCli(['migrate', '--phase', 'expand'], { env: { ...fx.t.env, ...env } });
      expect(expand.code).toBe(0);
      const human = await runCli(['migrate', 'status'], { env: fx.t.env });
      expect(human.stdout).toMatch(/· 0008_users_account_not_null {2}pending \(contract\)/);
      expect(human.stdout.replace(/\n/g, ' ')).toMatch(/phase: expanded \(\d+ contract migrations pending\): both applications work/);
      const json = JSON.parse((await runCli(['migrate', 'status', '--json'], { env: fx.t.env })).stdout);
      expect(json.phase).toBe('expanded');
      expect(json.migrations.find((row: { name: string }) => row.name === '0008_users_account_not_null')).toMatchObject({
        state: 'pending',
        phase: 'contract',
        skipped: false,
      });
      const bad = await runCli(['migrate', '--phase', 'later'], { env: fx.t.env });
      expect(bad.code).toBe(2);
      const contract = await runCli(['migrate', '--phase', 'contract'], { env: { ...fx.t.env, ...env } });
      expect(contract.code).toBe(0);
      expect(JSON.parse((await runCli(['migrate', 'status', '--json'], { env: fx.t.env })).stdout).phase).toBe('complete');
    });
  },
  { onDisk: true, setup: (t) => (t.kind === 'pglite' ? t.db.close() : Promise.resolve()) },
);

describeOnServer('the legacy views keep the legacy role’s grants', () => {
  it('a role granted the legacy table reads its view after expand; one never granted it still cannot', async () => {
    const t = await createTestDatabase('postgres');
    const role = `igny8_legacy_app_${Math.random().toString(16).slice(2, 8)}`;
    try {
      await createLegacySchema(t.db);
      await insertLegacyFixture(t.db.knex);
      await t.db.knex.raw(`create role ${role}`);
      await t.db.knex.raw(`grant select, update on igny8_tenants to ${role}`);
      const expand = await migrateLatest(t.db, { env, phase: 'expand' });
      expect(expand.error).toBeUndefined();
      await t.db.knex.transaction(async (trx) => {
        await trx.raw(`set local role ${role}`);
        await trx.raw(`set local search_path = ${LEGACY_VIEWS_SCHEMA}, public`);
        const tenants = await trx.raw(`select count(*)::int as n from igny8_tenants`);
        expect(tenants.rows[0].n).toBe(4);
        await trx.raw(`update igny8_tenants set status = 'active' where slug = 'delta'`);
        await expect(trx.raw(`select count(*) from igny8_users`)).rejects.toThrow(/permission denied/);
      });
    } finally {
      await t.drop();
      await serverAdmin(`drop role if exists ${role}`);
    }
  });
});
