import { expect, it } from 'vitest';
import baseline from '../../src/migrations/0001_legacy_baseline.js';
import { adoptLegacyDatabase } from '../../src/db/adopt.js';
import { migrationStatus } from '../../src/db/migrator.js';
import { DomainRefusal } from '../../src/errors.js';
import { describeEachDatabase } from '../helpers/databases.js';
import type { Knex } from 'knex';

// The legacy table of SPEC.md, column by column, written out independently of the code.
// Type as information_schema.data_type (+ length/precision), N = nullable, default as stored.
const EXPECTED = `
igny8_plans.id bigint NOT
igny8_plans.name character varying(255) NOT
igny8_plans.slug character varying(50) NOT
igny8_plans.price numeric(10,2) NOT 0
igny8_plans.billing_cycle character varying(20) NOT 'monthly'::character varying
igny8_plans.included_credits integer NOT 0
igny8_plans.credits_per_month integer NOT 0
igny8_plans.max_sites integer NOT 1
igny8_plans.max_users integer NOT 1
igny8_plans.max_industries integer N
igny8_plans.is_active boolean NOT true
igny8_plans.features jsonb NOT '[]'::jsonb
igny8_plans.created_at timestamp with time zone NOT now()
igny8_tenants.id bigint NOT
igny8_tenants.name character varying(255) NOT
igny8_tenants.slug character varying(255) NOT
igny8_tenants.owner_id bigint N
igny8_tenants.plan_id bigint NOT
igny8_tenants.credits integer NOT 0
igny8_tenants.status character varying(20) NOT 'trial'::character varying
igny8_tenants.payment_method character varying(30) NOT 'stripe'::character varying
igny8_tenants.billing_email character varying(254) N
igny8_tenants.billing_address_line1 character varying(255) N
igny8_tenants.billing_city character varying(100) N
igny8_tenants.billing_country character varying(2) N
igny8_tenants.created_at timestamp with time zone NOT now()
igny8_tenants.updated_at timestamp with time zone NOT now()
igny8_users.id bigint NOT
igny8_users.email character varying(254) NOT
igny8_users.password character varying(128) NOT
igny8_users.first_name character varying(150) NOT ''::character varying
igny8_users.last_name character varying(150) NOT ''::character varying
igny8_users.role character varying(20) NOT 'owner'::character varying
igny8_users.tenant_id bigint N
igny8_users.is_active boolean NOT true
igny8_users.date_joined timestamp with time zone NOT now()
igny8_users.last_login timestamp with time zone N
igny8_subscriptions.id bigint NOT
igny8_subscriptions.tenant_id bigint NOT
igny8_subscriptions.stripe_subscription_id character varying(255) N
igny8_subscriptions.payment_method character varying(30) NOT 'stripe'::character varying
igny8_subscriptions.external_payment_id character varying(255) N
igny8_subscriptions.status character varying(20) NOT
igny8_subscriptions.current_period_start timestamp with time zone NOT
igny8_subscriptions.current_period_end timestamp with time zone NOT
igny8_subscriptions.cancel_at_period_end boolean NOT false
igny8_subscriptions.created_at timestamp with time zone NOT now()
igny8_subscriptions.updated_at timestamp with time zone NOT now()
igny8_account_payment_methods.id bigint NOT
igny8_account_payment_methods.tenant_id bigint NOT
igny8_account_payment_methods.type character varying(30) NOT
igny8_account_payment_methods.display_name character varying(100) NOT ''::character varying
igny8_account_payment_methods.is_default boolean NOT false
igny8_account_payment_methods.is_enabled boolean NOT true
igny8_account_payment_methods.is_verified boolean NOT false
igny8_account_payment_methods.instructions text NOT ''::text
igny8_account_payment_methods.metadata jsonb NOT '{}'::jsonb
igny8_account_payment_methods.created_at timestamp with time zone NOT now()
igny8_invoices.id bigint NOT
igny8_invoices.tenant_id bigint NOT
igny8_invoices.subscription_id bigint N
igny8_invoices.invoice_number character varying(50) NOT
igny8_invoices.status character varying(20) NOT
igny8_invoices.subtotal numeric(10,2) NOT 0
igny8_invoices.tax numeric(10,2) NOT 0
igny8_invoices.total numeric(10,2) NOT 0
igny8_invoices.currency character varying(3) NOT 'USD'::character varying
igny8_invoices.invoice_date date NOT
igny8_invoices.due_date date NOT
igny8_invoices.paid_at timestamp with time zone N
igny8_invoices.billing_email character varying(254) N
igny8_invoices.line_items jsonb NOT '[]'::jsonb
igny8_invoices.metadata jsonb NOT '{}'::jsonb
igny8_invoices.created_at timestamp with time zone NOT now()
igny8_credit_transactions.id bigint NOT
igny8_credit_transactions.tenant_id bigint NOT
igny8_credit_transactions.transaction_type character varying(20) NOT
igny8_credit_transactions.amount integer NOT
igny8_credit_transactions.balance_after integer NOT
igny8_credit_transactions.description character varying(255) NOT ''::character varying
igny8_credit_transactions.metadata jsonb NOT '{}'::jsonb
igny8_credit_transactions.created_at timestamp with time zone NOT now()
igny8_industries.id bigint NOT
igny8_industries.name character varying(255) NOT
igny8_industries.slug character varying(50) NOT
igny8_industries.description text NOT ''::text
igny8_industries.is_active boolean NOT true
igny8_industries.created_at timestamp with time zone NOT now()
igny8_industry_sectors.id bigint NOT
igny8_industry_sectors.industry_id bigint NOT
igny8_industry_sectors.name character varying(255) NOT
igny8_industry_sectors.slug character varying(50) NOT
igny8_industry_sectors.description text NOT ''::text
igny8_industry_sectors.is_active boolean NOT true
igny8_sites.id bigint NOT
igny8_sites.tenant_id bigint NOT
igny8_sites.name character varying(255) NOT
igny8_sites.slug character varying(255) NOT
igny8_sites.domain character varying(200) N
igny8_sites.description text NOT ''::text
igny8_sites.industry_id bigint N
igny8_sites.is_active boolean NOT true
igny8_sites.status character varying(20) NOT 'active'::character varying
igny8_sites.wp_url character varying(200) N
igny8_sites.wp_username character varying(255) N
igny8_sites.wp_app_password character varying(255) N
igny8_sites.wp_api_key character varying(255) N
igny8_sites.created_at timestamp with time zone NOT now()
igny8_sites.updated_at timestamp with time zone NOT now()
igny8_sectors.id bigint NOT
igny8_sectors.tenant_id bigint NOT
igny8_sectors.site_id bigint NOT
igny8_sectors.industry_sector_id bigint N
igny8_sectors.name character varying(255) NOT
igny8_sectors.slug character varying(255) NOT
igny8_sectors.is_active boolean NOT true
igny8_sectors.created_at timestamp with time zone NOT now()
igny8_site_user_access.id bigint NOT
igny8_site_user_access.user_id bigint NOT
igny8_site_user_access.site_id bigint NOT
igny8_site_user_access.granted_by_id bigint N
igny8_site_user_access.granted_at timestamp with time zone NOT now()
igny8_site_integrations.id bigint NOT
igny8_site_integrations.tenant_id bigint NOT
igny8_site_integrations.site_id bigint NOT
igny8_site_integrations.platform character varying(20) NOT
igny8_site_integrations.config_json jsonb NOT '{}'::jsonb
igny8_site_integrations.credentials_json jsonb NOT '{}'::jsonb
igny8_site_integrations.is_active boolean NOT true
igny8_site_integrations.sync_enabled boolean NOT false
igny8_site_integrations.last_sync_at timestamp with time zone N
igny8_site_integrations.sync_status character varying(20) NOT 'pending'::character varying
igny8_site_integrations.created_at timestamp with time zone NOT now()
`;

// Unique keys and foreign keys of the legacy table (table: columns → referenced table).
const EXPECTED_UNIQUE = [
  'igny8_plans(slug)',
  'igny8_tenants(slug)',
  'igny8_users(email)',
  'igny8_subscriptions(tenant_id)',
  'igny8_invoices(invoice_number)',
  'igny8_industries(slug)',
  'igny8_industry_sectors(industry_id,slug)',
  'igny8_sites(tenant_id,slug)',
  'igny8_sectors(site_id,slug)',
  'igny8_site_user_access(user_id,site_id)',
  'igny8_site_integrations(site_id,platform)',
].sort();

const EXPECTED_FOREIGN_KEYS = [
  'igny8_tenants(owner_id)->igny8_users deferrable',
  'igny8_tenants(plan_id)->igny8_plans',
  'igny8_users(tenant_id)->igny8_tenants',
  'igny8_subscriptions(tenant_id)->igny8_tenants',
  'igny8_account_payment_methods(tenant_id)->igny8_tenants',
  'igny8_invoices(tenant_id)->igny8_tenants',
  'igny8_invoices(subscription_id)->igny8_subscriptions',
  'igny8_credit_transactions(tenant_id)->igny8_tenants',
  'igny8_industry_sectors(industry_id)->igny8_industries',
  'igny8_sites(tenant_id)->igny8_tenants',
  'igny8_sites(industry_id)->igny8_industries',
  'igny8_sectors(tenant_id)->igny8_tenants',
  'igny8_sectors(site_id)->igny8_sites',
  'igny8_sectors(industry_sector_id)->igny8_industry_sectors',
  'igny8_site_user_access(user_id)->igny8_users',
  'igny8_site_user_access(site_id)->igny8_sites',
  'igny8_site_user_access(granted_by_id)->igny8_users',
  'igny8_site_integrations(tenant_id)->igny8_tenants',
  'igny8_site_integrations(site_id)->igny8_sites',
].sort();

async function actualColumns(knex: Knex): Promise<string[]> {
  const result = await knex.raw(`
    select table_name, column_name, is_nullable, column_default,
           case when data_type = 'character varying' then 'character varying(' || character_maximum_length || ')'
                when data_type = 'numeric' then 'numeric(' || numeric_precision || ',' || numeric_scale || ')'
                else data_type end as type
      from information_schema.columns
     where table_schema = current_schema() and table_name like 'igny8\\_%' and table_name <> 'igny8_migrations'
     order by table_name, ordinal_position`);
  return result.rows.map((row: Record<string, string | null>) => {
    // bigserial ids default to their sequence: compare that separately, not by name.
    const def = row.column_default?.startsWith('nextval(') ? null : row.column_default;
    return [`${row.table_name}.${row.column_name}`, row.type, row.is_nullable === 'YES' ? 'N' : 'NOT', def]
      .filter((part) => part !== null)
      .join(' ');
  });
}

async function createLegacyByHand(knex: Knex): Promise<void> {
  // Created outside igny8's bookkeeping, as the old Django code did.
  await knex.transaction((trx) => baseline.up({ trx, kind: 'postgres', dataDir: undefined, env: {}, dryRun: false, note() {} }));
}

async function dropAll(knex: Knex): Promise<void> {
  await knex.raw('drop schema public cascade');
  await knex.raw('create schema public');
}

describeEachDatabase('legacy baseline and adopt', (fx) => {
  it('matches the legacy table of the spec column by column', async () => {
    await createLegacyByHand(fx.db.knex);
    const expected = EXPECTED.trim().split('\n').map((line) => line.trim());
    const actual = await actualColumns(fx.db.knex);
    expect(actual.sort()).toEqual(expected.sort());

    const ids = await fx.db.knex.raw(`
      select count(*) as n from information_schema.columns
       where table_schema = current_schema() and column_name = 'id' and column_default like 'nextval(%'
         and table_name like 'igny8\\_%'`);
    expect(ids.rows[0].n).toBe(13);

    const constraints = await fx.db.knex.raw(`
      select c.contype, c.conrelid::regclass::text as tbl, c.confrelid::regclass::text as ref, c.condeferrable,
             (select string_agg(a.attname, ',' order by k.ord) from unnest(c.conkey) with ordinality k(attnum, ord)
                join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum) as cols
        from pg_constraint c join pg_namespace n on n.oid = c.connamespace
       where n.nspname = current_schema() and c.contype in ('u', 'f')`);
    const rows = constraints.rows as Array<{ contype: string; tbl: string; ref: string; condeferrable: boolean; cols: string }>;
    expect(rows.filter((r) => r.contype === 'u').map((r) => `${r.tbl}(${r.cols})`).sort()).toEqual(EXPECTED_UNIQUE);
    expect(
      rows
        .filter((r) => r.contype === 'f')
        .map((r) => `${r.tbl}(${r.cols})->${r.ref}${r.condeferrable ? ' deferrable' : ''}`)
        .sort(),
    ).toEqual(EXPECTED_FOREIGN_KEYS);

    // As Django does: every foreign-key column leads an index of its own.
    const unindexed = await fx.db.knex.raw(`
      select c.conrelid::regclass::text as tbl, a.attname
        from pg_constraint c
        join pg_namespace n on n.oid = c.connamespace
        join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
       where n.nspname = current_schema() and c.contype = 'f'
         and not exists (select 1 from pg_index i where i.indrelid = c.conrelid and i.indkey[0] = c.conkey[1]
                            and i.indnatts = 1)`);
    expect(unindexed.rows).toEqual([]);
    await dropAll(fx.db.knex);
  });

  it('adopts a hand-made legacy database and records the baseline as applied', async () => {
    await createLegacyByHand(fx.db.knex);
    await fx.db.knex('igny8_plans').insert({ name: 'Free', slug: 'free', included_credits: 100 });
    const result = await adoptLegacyDatabase(fx.db);
    expect(result).toMatchObject({ baseline: '0001_legacy_baseline', tables: 13, extraColumns: [] });
    const status = await migrationStatus(fx.db);
    expect(status.find((s) => s.name === '0001_legacy_baseline')).toMatchObject({ state: 'applied', changed: false });
    // The data is untouched, and a second adopt refuses.
    expect(await fx.db.knex('igny8_plans').pluck('included_credits')).toEqual([100]);
    await expect(adoptLegacyDatabase(fx.db)).rejects.toThrow(/already managed by igny8/);
    await dropAll(fx.db.knex);
  });

  it('rejects a database of another shape with the list of differences, recording nothing', async () => {
    await createLegacyByHand(fx.db.knex);
    await fx.db.knex.raw('drop table igny8_site_integrations');
    await fx.db.knex.raw('alter table igny8_sites drop column wp_api_key');
    await fx.db.knex.raw('alter table igny8_plans alter column max_users type bigint');
    await fx.db.knex.raw('alter table igny8_users alter column tenant_id set not null');
    const error = await adoptLegacyDatabase(fx.db).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainRefusal);
    const refusal = error as DomainRefusal;
    expect(refusal.message).toMatch(/does not have the legacy shape \(4 differences\)/);
    expect(refusal.details.sort()).toEqual(
      [
        'igny8_plans.max_users: type is bigint, expected integer',
        'igny8_users.tenant_id: not null, expected nullable',
        'missing column igny8_sites.wp_api_key (character varying(255))',
        'missing table igny8_site_integrations',
      ].sort(),
    );
    const bookkeeping = await fx.db.knex.raw(`select to_regclass('igny8_migrations') is not null as present`);
    expect(bookkeeping.rows[0].present).toBe(false);
    await dropAll(fx.db.knex);
  });
});
