// The legacy fixture, migrated to the target schema: every value found in its new place.
import { beforeAll, expect, it } from 'vitest';
import { decryptSecret, isEnvelope, parseSecretKey } from '../../src/crypto/index.js';
import { migrateDown, migrateLatest, type RunReport } from '../../src/db/migrator.js';
import { BOOKKEEPING_TABLES } from '../../src/schema/tenancy.js';
import { createTestDatabase, describeEachDatabase } from '../helpers/databases.js';
import { createLegacySchema, insertLegacyFixture, LEGACY_SECRETS, TEST_SECRET_KEY, type LegacyFixture } from '../helpers/legacy-fixture.js';
import { schemaSnapshot } from '../helpers/schema-snapshot.js';

const env = { IGNY8_SECRET_KEY: TEST_SECRET_KEY };
const key = parseSecretKey(TEST_SECRET_KEY);

const LEGACY_TABLES_RENAMED = [
  'igny8_plans', 'igny8_accounts', 'igny8_users', 'igny8_subscriptions', 'igny8_account_payment_methods',
  'igny8_invoices', 'igny8_credit_transactions', 'igny8_industries', 'igny8_industry_sectors', 'igny8_sites',
  'igny8_sectors', 'igny8_site_user_access', 'igny8_site_integrations',
];
const TENANT_TABLES = [
  ...LEGACY_TABLES_RENAMED.filter(
    (table) => !['igny8_plans', 'igny8_accounts', 'igny8_industries', 'igny8_industry_sectors'].includes(table),
  ),
  // tenant tables igny8 added
  'igny8_account_status_history',
];

/** The one-shot path (an offline window), or expand then contract (the live rollout). */
async function migrateBy(path: 'one-shot' | 'phased', db: Parameters<typeof migrateLatest>[0]): Promise<RunReport> {
  if (path === 'one-shot') return migrateLatest(db, { env });
  const expand = await migrateLatest(db, { env, phase: 'expand' });
  if (expand.error) return expand;
  const contract = await migrateLatest(db, { env, phase: 'contract' });
  return { results: [...expand.results, ...contract.results], error: contract.error };
}

for (const path of ['one-shot', 'phased'] as const)
describeEachDatabase(`legacy fixture migrated to the target schema (${path})`, (fx) => {
  let f: LegacyFixture;
  let run: RunReport;
  let before: Record<string, number>;

  beforeAll(async () => {
    await createLegacySchema(fx.db);
    f = await insertLegacyFixture(fx.db.knex);
    before = {};
    for (const table of LEGACY_TABLES_RENAMED) {
      const legacyName = table === 'igny8_accounts' ? 'igny8_tenants' : table;
      before[table] = Number((await fx.db.knex(legacyName).count('* as n'))[0].n);
    }
    run = await migrateBy(path, fx.db);
  });

  const row = async (table: string, id: number) => fx.db.knex(table).where({ id }).first();
  const notes = (prefix: string) => run.results.find((r) => r.name.startsWith(prefix))?.notes.join('\n') ?? '';

  it('applies every migration', () => {
    expect(run.error).toBeUndefined();
    expect(run.results.every((r) => r.status === 'applied')).toBe(true);
    expect(run.results.map((r) => r.name)).toContain('0020_account_scoped_references');
  });

  it('keeps the row count of every table, adding only the rows the migrations promise', async () => {
    const added: Record<string, number> = {
      igny8_account_payment_methods: 6, // legacy values without a row of their type
      igny8_site_user_access: 4, // site owners' access
      igny8_site_integrations: 1, // acme-blog's WordPress settings (bravo's merged)
    };
    for (const table of LEGACY_TABLES_RENAMED) {
      const after = Number((await fx.db.knex(table).count('* as n'))[0].n);
      expect(`${table}: ${after}`).toBe(`${table}: ${before[table] + (added[table] ?? 0)}`);
    }
  });

  it('renames tenants to accounts and tenant_id to account_id, with their constraints and indexes', async () => {
    const leftovers = await fx.db.knex.raw(
      `select relname as name from pg_class where relname like '%tenant%'
       union all select conname from pg_constraint where conname like '%tenant%'
       union all select table_name || '.' || column_name from information_schema.columns
        where table_schema = current_schema() and column_name like '%tenant%'`,
    );
    expect(leftovers.rows).toEqual([]);
    expect((await row('igny8_accounts', f.accounts.acme)).name).toBe('Acme Größe');
    expect((await row('igny8_sites', f.sites.acmeBlog)).account_id).toBe(f.accounts.acme);
    const names = (await fx.db.knex.raw(`select conname from pg_constraint where conrelid = 'igny8_accounts'::regclass order by 1`)).rows.map(
      (r: { conname: string }) => r.conname,
    );
    expect(names).toEqual(expect.arrayContaining(['igny8_accounts_pkey', 'igny8_accounts_slug_key', 'igny8_accounts_plan_id_fkey']));
  });

  it('makes the sector limit explicit: NULL max_industries becomes 5, other values stay', async () => {
    expect((await row('igny8_plans', f.plans.proLegacy)).max_sectors_per_site).toBe(5);
    expect((await row('igny8_plans', f.plans.free)).max_sectors_per_site).toBe(1);
    expect((await row('igny8_plans', f.plans.mix)).max_sectors_per_site).toBe(0);
    const column = await fx.db.knex.raw(
      `select is_nullable from information_schema.columns where table_name = 'igny8_plans' and column_name = 'max_sectors_per_site'`,
    );
    expect(column.rows[0].is_nullable).toBe('NO');
  });

  it('folds credits_per_month into included_credits where that was 0, and archives the one it could not fold', async () => {
    expect((await row('igny8_plans', f.plans.proLegacy)).included_credits).toBe(5000);
    expect((await row('igny8_plans', f.plans.mix)).included_credits).toBe(2000);
    expect((await row('igny8_plans', f.plans.free)).included_credits).toBe(100);
    const archived = await fx.db.knex('igny8_legacy_values').where({ table_name: 'igny8_plans', row_id: f.plans.mix, migration: '0006_plans_fold_credits_per_month' }).first();
    expect(archived.legacy).toEqual({ credits_per_month: 3000, included_credits: 2000 });
    expect(notes('0006')).toMatch(/plan mix: credits_per_month 3000 not folded/);
    expect(await fx.db.knex.schema.hasColumn('igny8_plans', 'credits_per_month')).toBe(false);
  });

  it("gives every subscription its account's plan", async () => {
    expect((await row('igny8_subscriptions', f.subscriptions.acme)).plan_id).toBe(f.plans.proLegacy);
    expect((await row('igny8_subscriptions', f.subscriptions.bravo)).plan_id).toBe(f.plans.mix);
  });

  it('carries owner_id into roles, one owner per account, keeping the previous roles', async () => {
    const roles = async (account: number) =>
      Object.fromEntries((await fx.db.knex('igny8_users').where({ account_id: account }).select('id', 'role')).map((u) => [u.id, u.role]));
    expect(await roles(f.accounts.acme)).toEqual({ [f.users.a1]: 'owner', [f.users.a2]: 'editor' });
    expect(await roles(f.accounts.bravo)).toEqual({ [f.users.b1]: 'owner' });
    expect(await roles(f.accounts.charlie)).toEqual({ [f.users.c1]: 'owner' });
    expect(await roles(f.accounts.delta)).toEqual({ [f.users.d1]: 'admin', [f.users.d2]: 'owner' });
    const archived = await fx.db.knex('igny8_legacy_values').where({ table_name: 'igny8_users' }).orderBy('row_id').select('row_id', 'legacy');
    expect(archived).toEqual([
      { row_id: f.users.a1, legacy: { role: 'admin' } },
      { row_id: f.users.d1, legacy: { role: 'owner' } },
      { row_id: f.users.d2, legacy: { role: 'admin' } },
    ]);
    expect(await fx.db.knex.schema.hasColumn('igny8_accounts', 'owner_id')).toBe(false);
    await expect(fx.db.knex('igny8_users').where({ id: f.users.a2 }).update({ role: 'owner' })).rejects.toThrow(/unique|duplicate/i);
    await expect(fx.db.knex('igny8_users').insert({ email: 'nobody@example.com', password: 'x' })).rejects.toThrow(/null/i);
    // delta is what owner-role-mismatch finds; acme (owner_id naming an admin, no owner) is
    // account-without-owner's, which this migration resolves instead of refusing.
    expect(notes('0009')).toContain('2 users made owner, 1 owner made admin');
    expect(notes('0009')).toContain('owner-role-mismatch resolved for 1 account;');
  });

  it('rejects an email that differs from an existing one only in case', async () => {
    await expect(
      fx.db.knex('igny8_users').insert({ email: 'ANN@acme.EXAMPLE', password: 'x', role: 'editor', account_id: f.accounts.acme }),
    ).rejects.toThrow(/igny8_users_email_lower_key/);
  });

  it('requires an industry on every site', async () => {
    await expect(
      fx.db.knex('igny8_sites').insert({ account_id: f.accounts.acme, name: 'x', slug: 'no-industry' }),
    ).rejects.toThrow(/industry_id/);
  });

  it("moves each invoice's billing email into its snapshot unchanged, and backfills the others from the account", async () => {
    expect((await row('igny8_invoices', f.invoices.acmeOwnEmail)).billing_snapshot).toEqual({
      email: 'ap@acme-old.example', name: 'Acme Größe', address_line1: 'Hauptstraße 1', city: 'Zürich', country: 'CH',
      backfilled_fields: ['name', 'address_line1', 'city', 'country'],
    });
    expect((await row('igny8_invoices', f.invoices.acmeNoEmail)).billing_snapshot).toEqual({
      email: 'billing@acme.example', name: 'Acme Größe', address_line1: 'Hauptstraße 1', city: 'Zürich', country: 'CH', backfilled: true,
    });
    // No billing email on the account either: the owner's address, marked as backfilled.
    expect((await row('igny8_invoices', f.invoices.bravoEmpty)).billing_snapshot).toMatchObject({ email: 'boss@bravo.example', backfilled: true });
    expect((await row('igny8_invoices', f.invoices.charlieRepaired)).billing_snapshot).toEqual({
      email: 'repair@charlie.example', name: 'Charlie', backfilled: true,
    });
    expect(await fx.db.knex.schema.hasColumn('igny8_invoices', 'billing_email')).toBe(false);
  });

  it('consolidates the three payment-method places into one default per account, every legacy value kept', async () => {
    const methods = async (account: number) =>
      (await fx.db.knex('igny8_account_payment_methods').where({ account_id: account }).orderBy('type'))
        .map((m) => `${m.type}${m.is_default ? '*' : ''}`);
    // The existing default wins; the account's and the subscription's values become rows.
    expect(await methods(f.accounts.acme)).toEqual(['bank_transfer', 'paypal', 'stripe*']);
    // No default row: the subscription's method wins over the account's.
    expect(await methods(f.accounts.bravo)).toEqual(['paypal*', 'stripe']);
    // No subscription: the account's method, beside the existing non-default row.
    expect(await methods(f.accounts.charlie)).toEqual(['manual*', 'paypal']);
    expect(await methods(f.accounts.delta)).toEqual(['stripe*']);
    const created = await fx.db.knex('igny8_account_payment_methods').where({ account_id: f.accounts.acme, type: 'bank_transfer' }).first();
    expect(created.metadata.migrated_from).toEqual(['igny8_subscriptions.payment_method']);
    expect(await fx.db.knex.schema.hasColumn('igny8_accounts', 'payment_method')).toBe(false);
    expect(await fx.db.knex.schema.hasColumn('igny8_subscriptions', 'payment_method')).toBe(false);
    await expect(
      fx.db.knex('igny8_account_payment_methods').where({ account_id: f.accounts.acme, type: 'paypal' }).update({ is_default: true }),
    ).rejects.toThrow(/igny8_account_payment_methods_one_default/);
  });

  it("backfills access to every site for its account's owner and gives access rows their account", async () => {
    const access = await fx.db.knex('igny8_site_user_access').orderBy(['site_id', 'user_id']).select('user_id', 'site_id', 'account_id');
    expect(access).toEqual([
      { user_id: f.users.a1, site_id: f.sites.acmeBlog, account_id: f.accounts.acme },
      { user_id: f.users.a2, site_id: f.sites.acmeBlog, account_id: f.accounts.acme },
      { user_id: f.users.a1, site_id: f.sites.acmeShop, account_id: f.accounts.acme },
      { user_id: f.users.b1, site_id: f.sites.bravo, account_id: f.accounts.bravo },
      { user_id: f.users.c1, site_id: f.sites.charlie, account_id: f.accounts.charlie },
    ]);
  });

  it('guards the ledger: no negative balance, idempotency keys unique per account, rows immutable', async () => {
    await expect(fx.db.knex('igny8_accounts').where({ id: f.accounts.delta }).update({ credits: -1 })).rejects.toThrow(/credits_non_negative/);
    expect((await row('igny8_credit_transactions', f.ledger.second)).idempotency_key).toBe('grant-1');
    await expect(
      fx.db.knex('igny8_credit_transactions').insert({ account_id: f.accounts.acme, transaction_type: 'purchase', amount: 1, balance_after: 151, idempotency_key: 'grant-1' }),
    ).rejects.toThrow(/idempotency_key/);
    await expect(fx.db.knex('igny8_credit_transactions').where({ id: f.ledger.first }).update({ amount: 1 })).rejects.toThrow(/immutable/);
    await expect(fx.db.knex('igny8_credit_transactions').where({ id: f.ledger.first }).delete()).rejects.toThrow(/immutable/);
    expect((await row('igny8_credit_transactions', f.ledger.first)).amount).toBe(100);
  });

  it('moves the WordPress settings into integrations, credentials encrypted, and they decrypt to the originals', async () => {
    const acme = await fx.db.knex('igny8_site_integrations').where({ site_id: f.sites.acmeBlog, platform: 'wordpress' }).first();
    expect(acme.account_id).toBe(f.accounts.acme);
    expect(acme.config_json).toEqual({ url: 'https://acme.example' });
    expect(acme.credentials_json.username).toBe('wörd-admin');
    expect(isEnvelope(acme.credentials_json.app_password)).toBe(true);
    expect(decryptSecret(acme.credentials_json.app_password, key)).toBe(LEGACY_SECRETS.acmeAppPassword);
    expect(decryptSecret(acme.credentials_json.api_key, key)).toBe(LEGACY_SECRETS.acmeApiKey);
    // Bravo already had an integration: its values stay, the legacy ones fill the gaps and are archived.
    const bravo = await fx.db.knex('igny8_site_integrations').where({ id: f.integrations.bravoWordpress }).first();
    expect(bravo.config_json).toEqual({ url: 'https://new.bravo.example' });
    expect(bravo.credentials_json.username).toBe('bravo-new');
    expect(decryptSecret(bravo.credentials_json.app_password, key)).toBe(LEGACY_SECRETS.bravoAppPassword);
    const archived = await fx.db.knex('igny8_legacy_values').where({ migration: '0019_wordpress_integrations', row_id: f.sites.bravo }).first();
    expect(archived.legacy.wp_url).toBe('https://old.bravo.example');
    expect(decryptSecret(archived.legacy.wp_app_password, key)).toBe(LEGACY_SECRETS.bravoAppPassword);
    // A plaintext secret an integration already held is encrypted in place.
    const charlie = await fx.db.knex('igny8_site_integrations').where({ id: f.integrations.charlieShopify }).first();
    expect(charlie.credentials_json.scope).toBe('read');
    expect(decryptSecret(charlie.credentials_json.access_token, key)).toBe(LEGACY_SECRETS.charlieToken);
    expect((await row('igny8_site_integrations', f.integrations.acmeCustom)).credentials_json).toEqual(['legacy-list']);
    for (const column of ['wp_url', 'wp_username', 'wp_app_password', 'wp_api_key']) {
      expect(await fx.db.knex.schema.hasColumn('igny8_sites', column)).toBe(false);
    }
  });

  it('leaves no credential in plaintext anywhere in the database, nor in the migration report', async () => {
    const tables = (await fx.db.knex.raw(`select tablename from pg_tables where schemaname = current_schema()`)).rows as Array<{ tablename: string }>;
    let dump = '';
    for (const { tablename } of tables) dump += JSON.stringify(await fx.db.knex(tablename).select('*'));
    expect(dump).toContain('wörd-admin'); // the dump does read the integrations
    for (const secret of Object.values(LEGACY_SECRETS)) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(JSON.stringify(secret).slice(1, -1));
    }
    const report = JSON.stringify(run.results);
    for (const secret of [...Object.values(LEGACY_SECRETS), TEST_SECRET_KEY]) expect(report).not.toContain(secret);
  });

  it('rejects rows that point into another account', async () => {
    await expect(
      fx.db.knex('igny8_sectors').insert({ account_id: f.accounts.bravo, site_id: f.sites.acmeBlog, name: 'x', slug: 'cross' }),
    ).rejects.toThrow(/igny8_sectors_account_id_site_id_fkey/);
    await expect(
      fx.db.knex('igny8_site_user_access').insert({ account_id: f.accounts.acme, site_id: f.sites.acmeShop, user_id: f.users.b1 }),
    ).rejects.toThrow(/igny8_site_user_access_account_id_user_id_fkey/);
    await expect(
      fx.db.knex('igny8_invoices').insert({
        account_id: f.accounts.bravo, subscription_id: f.subscriptions.acme, invoice_number: 'INV-X', status: 'draft',
        invoice_date: '2025-11-01', due_date: '2025-11-02', billing_snapshot: '{}',
      }),
    ).rejects.toThrow(/igny8_invoices_account_id_subscription_id_fkey/);
    await expect(
      fx.db.knex('igny8_site_integrations').insert({ account_id: f.accounts.bravo, site_id: f.sites.charlie, platform: 'custom' }),
    ).rejects.toThrow(/igny8_site_integrations_account_id_site_id_fkey/);
  });

  it('leaves account_id not null on every tenant table', async () => {
    const result = await fx.db.knex.raw(
      `select table_name, is_nullable from information_schema.columns
        where table_schema = current_schema() and column_name = 'account_id' order by table_name`,
    );
    const columns = Object.fromEntries(result.rows.map((r: { table_name: string; is_nullable: string }) => [r.table_name, r.is_nullable]));
    for (const table of TENANT_TABLES) expect(`${table}: ${columns[table]}`).toBe(`${table}: NO`);
    // And every table that names an account is in that list or is igny8's own bookkeeping.
    const domainTables = Object.keys(columns).filter((table) => !TENANT_TABLES.includes(table) && !BOOKKEEPING_TABLES.includes(table));
    expect(domainTables).toEqual([]);
  });

  it('ends with exactly the schema of a fresh database', async () => {
    const fresh = await createTestDatabase(fx.kind);
    try {
      const freshRun = await migrateLatest(fresh.db, {});
      expect(freshRun.error).toBeUndefined();
      expect(await schemaSnapshot(fx.db.knex)).toEqual(await schemaSnapshot(fresh.db.knex));
    } finally {
      await fresh.drop();
    }
  });

  it('reverts the account-scoped keys, and refuses to go back past the WordPress move', async () => {
    const down = await migrateDown(fx.db, { to: '0019_wordpress_integrations', env });
    expect(down.error).toBeUndefined();
    const keys = await fx.db.knex.raw(`select count(*)::int as n from pg_constraint where conname like '%account_id_id_key'`);
    expect(keys.rows[0].n).toBe(0);
    await expect(migrateDown(fx.db, { to: '0001_legacy_baseline', env })).rejects.toThrow(/irreversible/);
    const again = await migrateLatest(fx.db, { env });
    expect(again.error).toBeUndefined();
  });
});
