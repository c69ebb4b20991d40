// The whole journey an operator takes with a broken production database: seed legacy →
// audit → migrate (refused, naming the repair) → repair --all --yes → migrate → clean audit,
// with every legacy value found again in its new place and the row counts accounted for.
import { beforeAll, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run.js';
import { decryptSecret } from '../../src/crypto/index.js';
import { migrateLatest, migrationStatus } from '../../src/db/migrator.js';
import { REPAIRABLE_IDS } from '../../src/rules/registry.js';
import { runRepairs } from '../../src/repairs/run.js';
import { seedLegacy, type SeedResult } from '../../src/seed/legacy.js';
import { inspectSchema } from '../../src/schema/inspect.js';
import { LEGACY_TABLES } from '../../src/schema/legacy.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { repairOptions, TEST_ENV, TEST_KEY } from '../helpers/repair-fixtures.js';
import { all, count, rowCounts } from '../helpers/sql.js';

type Row = Record<string, unknown>;

/** The legacy table each target table was (seed #9: the accounts table was renamed). */
const TARGET_NAME = (table: string) => (table === 'igny8_tenants' ? 'igny8_accounts' : table);

function byId(rows: Row[]): Map<number, Row> {
  return new Map(rows.map((row) => [Number(row.id), row]));
}

describeEachDatabase('the legacy journey: seed, audit, migrate refused, repair --all, migrate, clean audit', (fixture) => {
  let seeded: SeedResult;
  let legacyCounts: Record<string, number>;
  const legacy: Record<string, Row[]> = {};

  // A legacy database as `igny8 seed legacy` makes it, and every row of it as it was.
  beforeAll(async () => {
    const { db } = fixture;
    seeded = await seedLegacy(db, { accounts: 150, defectRate: 0.45, seed: 11, defects: ['repairable'] });
    legacyCounts = await rowCounts(db.knex, LEGACY_TABLES);
    for (const table of LEGACY_TABLES) legacy[table] = await all(db.knex, `select * from ${table} order by id`);
  });

  it('audits exactly the defects seed legacy planted', async () => {
    const report = await runAudit(fixture.db.knex, { sample: 0 });
    for (const check of report.checks.filter((result) => result.status === 'findings' || result.status === 'ok')) {
      expect({ id: check.id, count: check.count }).toEqual({ id: check.id, count: seeded.planted[check.id] ?? 0 });
    }
    expect(report.exitCode).toBe(1);
    expect(Object.values(seeded.planted).filter((planted) => planted > 0).length).toBeGreaterThanOrEqual(10);
  });

  it('refuses repair --yes before the repair log exists', async () => {
    const { db } = fixture;
    await expect(runRepairs(db, REPAIRABLE_IDS, { ...repairOptions(db), apply: true })).rejects.toThrow(
      /run `igny8 migrate` first; it adds the repair log and stops before the first migration that needs repairs/,
    );
  });

  it('migrate stops at the first gated migration, names the check and the repair, and changes nothing there', async () => {
    const { db } = fixture;
    const run = await migrateLatest(db, { env: TEST_ENV });
    expect(run.error).toBeDefined();
    const failed = run.results.find((result) => result.status === 'failed');
    expect(failed?.name).toBe('0008_users_account_not_null');
    expect(run.error!.exitCode).toBe(3);
    expect(run.error!.message).toContain(`${seeded.planted['orphan-users']} users without an account (check orphan-users)`);
    expect([run.error!.message, ...run.error!.details].join('\n')).toContain('igny8 repair orphan-users');
    const status = await migrationStatus(db);
    expect(status.find((row) => row.name === '0008_users_account_not_null')?.state).toBe('pending');
    // The expand migrations before the gate renamed and added, never removed: every row is still there.
    const now = await rowCounts(db.knex, LEGACY_TABLES.map(TARGET_NAME));
    for (const table of LEGACY_TABLES) expect({ table, rows: now[TARGET_NAME(table)] }).toEqual({ table, rows: legacyCounts[table] });
    expect((await inspectSchema(db.knex)).hasColumn('igny8_users', 'account_id')).toBe(true);
  });

  it('repair --all --yes leaves every repairable check at zero in one run; a second run changes nothing', async () => {
    const { db } = fixture;
    const first = await runRepairs(db, REPAIRABLE_IDS, { ...repairOptions(db), apply: true });
    expect(first.failed).toBeUndefined();
    for (const item of first.items) {
      if (item.plan.notApplicable) continue;
      expect({ id: item.plan.checkId, left: item.plan.leftOver }).toEqual({ id: item.plan.checkId, left: undefined });
      expect({ id: item.plan.checkId, repaired: item.outcome?.repaired }).toEqual({
        id: item.plan.checkId,
        // An invoice's billing snapshot is written by expand (0012), before the first gate.
        repaired: item.plan.checkId === 'invoice-billing-snapshot-missing' ? 0 : (seeded.planted[item.plan.checkId] ?? 0),
      });
    }
    const audit = await runAudit(db.knex, { sample: 0 });
    for (const check of audit.checks.filter((result) => result.repairable && result.status === 'findings')) {
      expect({ id: check.id, count: check.count }).toEqual({ id: check.id, count: 0 });
    }
    const logged = await count(db.knex, 'igny8_repair_log');
    const second = await runRepairs(db, REPAIRABLE_IDS, { ...repairOptions(db), apply: true });
    expect(second.items.every((item) => (item.outcome?.repaired ?? 0) === 0)).toBe(true);
    expect(await count(db.knex, 'igny8_repair_log')).toBe(logged);
    expect(second.runId).not.toBe(first.runId);
  });

  it('migrate then completes and the audit exits 0', async () => {
    const { db } = fixture;
    const run = await migrateLatest(db, { env: TEST_ENV });
    expect(run.error).toBeUndefined();
    expect((await migrationStatus(db)).every((row) => row.state === 'applied')).toBe(true);
    const audit = await runAudit(db.knex, { sample: 0 });
    expect(audit.exitCode).toBe(0);
    expect(audit.totals.rows).toBe(0);
  });

  it('keeps every legacy row, and every new row is one a repair logged', async () => {
    const { db } = fixture;
    const after = await rowCounts(db.knex, LEGACY_TABLES.map(TARGET_NAME));
    const inserted = Object.fromEntries(
      (
        await all<{ table_name: string; n: number }>(
          db.knex,
          `select table_name, count(*)::int as n from igny8_repair_log where before is null group by table_name`,
        )
      ).map((row) => [row.table_name, Number(row.n)]),
    );
    for (const table of LEGACY_TABLES) {
      const target = TARGET_NAME(table);
      const expected = legacyCounts[table] + (inserted[target] ?? 0);
      // The migrations themselves add rows only where a legacy column becomes rows
      // (payment methods, WordPress integrations, access for site owners).
      if (['igny8_account_payment_methods', 'igny8_site_integrations', 'igny8_site_user_access'].includes(table)) {
        expect(after[target]).toBeGreaterThanOrEqual(expected);
      } else {
        expect({ table, rows: after[target] }).toEqual({ table, rows: expected });
      }
    }
  });

  it('finds every legacy value again in its new place', async () => {
    const { db } = fixture;
    const knex = db.knex;
    const key = Buffer.from(TEST_KEY, 'hex');

    const users = byId(await all(knex, 'select * from igny8_users'));
    for (const old of legacy.igny8_users) {
      const now = users.get(Number(old.id))!;
      for (const field of ['email', 'password', 'first_name', 'last_name', 'is_active', 'date_joined', 'last_login']) {
        expect(now[field]).toEqual(old[field]);
      }
      expect(now.account_id).not.toBeNull();
      if (old.tenant_id !== null) expect(now.account_id).toBe(old.tenant_id);
    }

    const grants = new Map(
      (
        await all<{ account_id: number; total: number }>(
          knex,
          `select account_id, sum(amount)::int as total from igny8_credit_transactions
            where metadata->>'repair' = 'signup-credit-shortfall' group by account_id`,
        )
      ).map((row) => [Number(row.account_id), Number(row.total)]),
    );
    const accounts = byId(await all(knex, 'select * from igny8_accounts'));
    for (const old of legacy.igny8_tenants) {
      const now = accounts.get(Number(old.id))!;
      for (const field of ['name', 'slug', 'plan_id', 'status', 'billing_email', 'billing_address_line1', 'billing_city', 'billing_country']) {
        expect(now[field]).toEqual(old[field]);
      }
      expect(now.credits).toBe(Number(old.credits) + (grants.get(Number(old.id)) ?? 0));
    }

    const ledger = byId(await all(knex, 'select * from igny8_credit_transactions'));
    for (const old of legacy.igny8_credit_transactions) {
      const now = ledger.get(Number(old.id))!;
      for (const field of ['amount', 'balance_after', 'transaction_type', 'description', 'metadata', 'created_at']) {
        expect(now[field]).toEqual(old[field]);
      }
    }

    // seed #8: every payment method the account or its subscription named is a row of the account.
    const methods = await all<{ account_id: number; type: string }>(knex, 'select account_id, type from igny8_account_payment_methods');
    const has = new Set(methods.map((row) => `${row.account_id}:${row.type}`));
    for (const old of legacy.igny8_tenants) expect(has.has(`${old.id}:${old.payment_method}`)).toBe(true);
    for (const old of legacy.igny8_subscriptions) expect(has.has(`${old.tenant_id}:${old.payment_method}`)).toBe(true);
    const defaults = await all<{ n: number }>(
      knex,
      'select count(*)::int as n from igny8_account_payment_methods where is_default group by account_id having count(*) > 1',
    );
    expect(defaults).toEqual([]);

    // seed #6: an invoice's own billing email moves into its snapshot unchanged; others are marked backfilled.
    const invoices = byId(await all(knex, 'select * from igny8_invoices'));
    for (const old of legacy.igny8_invoices) {
      const snapshot = invoices.get(Number(old.id))!.billing_snapshot as Row;
      if (old.billing_email) expect(snapshot.email).toBe(old.billing_email);
      else expect(snapshot.backfilled).toBe(true);
      expect(invoices.get(Number(old.id))!.invoice_number).toBe(old.invoice_number);
    }

    // seed #4, #12: industries kept or filled; WordPress settings moved, secrets decrypt to the originals.
    const sites = byId(await all(knex, 'select * from igny8_sites'));
    const integrations = await all<Row>(knex, `select * from igny8_site_integrations where platform = 'wordpress'`);
    const wordpress = new Map(integrations.map((row) => [Number(row.site_id), row]));
    for (const old of legacy.igny8_sites) {
      const now = sites.get(Number(old.id))!;
      expect(now.industry_id).not.toBeNull();
      if (old.industry_id !== null) expect(now.industry_id).toBe(old.industry_id);
      for (const field of ['name', 'slug', 'domain']) expect(now[field]).toEqual(old[field]);
      const integration = wordpress.get(Number(old.id));
      const credentials = (integration?.credentials_json ?? {}) as Row;
      const config = (integration?.config_json ?? {}) as Row;
      if (old.wp_app_password) expect(decryptSecret(credentials.app_password, key)).toBe(old.wp_app_password);
      if (old.wp_api_key) expect(decryptSecret(credentials.api_key, key)).toBe(old.wp_api_key);
      if (old.wp_username) expect(credentials.username).toBe(old.wp_username);
      if (old.wp_url) expect(config.url).toBe(old.wp_url);
    }

    const sectors = byId(await all(knex, 'select * from igny8_sectors'));
    for (const old of legacy.igny8_sectors) {
      const now = sectors.get(Number(old.id))!;
      for (const field of ['site_id', 'industry_sector_id', 'name', 'slug']) expect(now[field]).toEqual(old[field]);
    }
    const access = new Set((await all<Row>(knex, 'select user_id, site_id from igny8_site_user_access')).map((row) => `${row.user_id}:${row.site_id}`));
    for (const old of legacy.igny8_site_user_access) expect(access.has(`${old.user_id}:${old.site_id}`)).toBe(true);

    // No plaintext secret anywhere in the repair log.
    const log = JSON.stringify(await all(knex, 'select before, after from igny8_repair_log'));
    for (const old of legacy.igny8_sites) {
      if (old.wp_app_password) expect(log).not.toContain(String(old.wp_app_password));
      if (old.wp_api_key) expect(log).not.toContain(String(old.wp_api_key));
    }
    for (const old of legacy.igny8_users) expect(log).not.toContain(String(old.password));
  });
});
