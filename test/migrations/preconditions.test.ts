// A migration that would add a constraint over bad rows refuses: with the count, the check id
// and the repair command, and leaving the database exactly as it was. The gates are all on
// contract migrations: expand applies over the bad rows.
import { beforeAll, expect, it } from 'vitest';
import { listMigrationFiles } from '../../src/db/migrations.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { DomainRefusal, ExitCode } from '../../src/errors.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { createLegacySchema, insertLegacyFixture, TEST_SECRET_KEY, type LegacyFixture } from '../helpers/legacy-fixture.js';
import { schemaSnapshot } from '../helpers/schema-snapshot.js';
import type { Knex } from 'knex';

const env = { IGNY8_SECRET_KEY: TEST_SECRET_KEY };
const NAMES = listMigrationFiles().map((file) => file.name);
const previous = (name: string) => NAMES[NAMES.indexOf(name) - 1];

/** Schema and every row of every table: what "the database as it was" means. */
async function everything(knex: Knex) {
  const tables = (await knex.raw(`select tablename from pg_tables where schemaname = current_schema() order by 1`)).rows as Array<{ tablename: string }>;
  const rows: Record<string, unknown[]> = {};
  for (const { tablename } of tables) rows[tablename] = await knex(tablename).select('*').orderByRaw('1');
  return { schema: await schemaSnapshot(knex), rows };
}

interface Step {
  blocked: string;
  message: RegExp[];
  details: RegExp[];
  /** Resolves the violation, as a repair or a person would. */
  fix: (knex: Knex, f: LegacyFixture, extra: Record<string, number>) => Promise<unknown>;
}

const STEPS: Step[] = [
  {
    blocked: '0008_users_account_not_null',
    message: [/1 user without an account \(check orphan-users\)/, /repair: igny8 repair orphan-users/],
    details: [/`igny8 repair orphan-users` shows the plan; add --yes to apply it, then run `igny8 migrate` again/],
    fix: (knex, f, x) => knex('igny8_users').where({ id: x.orphan }).update({ account_id: f.accounts.acme }),
  },
  {
    blocked: '0009_owner_into_roles',
    message: [/1 account without an owner, or whose owner_id names a user of another account \(check account-without-owner\)/, /igny8 repair account-without-owner/],
    details: [],
    fix: (knex, _f, x) => knex('igny8_users').insert({ email: 'owner@foxtrot.example', password: 'x', role: 'owner', account_id: x.foxtrot }),
  },
  {
    blocked: '0009_owner_into_roles',
    message: [/1 account with more than one owner \(check multiple-owners\)/, /igny8 repair multiple-owners/],
    details: [],
    fix: (knex, _f, x) => knex('igny8_users').where({ id: x.echoSecondOwner }).update({ role: 'admin' }),
  },
  {
    blocked: '0010_users_email_case_insensitive',
    message: [/1 email address used by several users when case is ignored \(check duplicate-emails\)/],
    details: [/no automatic repair: a person must resolve them; list them with `igny8 audit --check duplicate-emails`/],
    fix: (knex, _f, x) => knex('igny8_users').where({ id: x.duplicate }).update({ email: 'ann.two@echo.example' }),
  },
  {
    blocked: '0011_sites_industry_not_null',
    message: [/1 site without an industry \(check site-industry-null\)/, /repair: igny8 repair site-industry-null \[--default-industry SLUG\]/],
    details: [/infers each site's industry from its sectors/],
    fix: (knex, f, x) => knex('igny8_sites').where({ id: x.siteWithoutIndustry }).update({ industry_id: f.industries.tech }),
  },
  {
    blocked: '0013_payment_methods_consolidate',
    message: [/1 account with several default payment methods \(check payment-method-drift\)/, /igny8 repair payment-method-drift/],
    details: [],
    fix: (knex, _f, x) => knex('igny8_account_payment_methods').where({ id: x.secondDefault }).update({ is_default: false }),
  },
  {
    blocked: '0020_account_scoped_references',
    message: [/1 row pointing into another account \(check cross-tenant-reference\)/],
    details: [/^sector → site: 1$/, /list them with `igny8 audit --check cross-tenant-reference`/],
    fix: (knex, f, x) => knex('igny8_sectors').where({ id: x.crossSector }).update({ account_id: f.accounts.acme }),
  },
  {
    blocked: '0056_accounts_credits_non_negative_validate',
    message: [/1 account with a negative credit balance; check \(credits >= 0\) cannot be added/],
    details: [/igny8 grant-credits --account SLUG --amount N/],
    fix: (knex, f) => knex('igny8_accounts').where({ id: f.accounts.delta }).update({ credits: 0 }),
  },
];

describeEachDatabase('migrations with data preconditions', (fx) => {
  let f: LegacyFixture;
  const extra: Record<string, number> = {};

  beforeAll(async () => {
    const knex = fx.db.knex;
    await createLegacySchema(fx.db);
    f = await insertLegacyFixture(knex);
    const id = async (table: string, row: Record<string, unknown>) => Number((await knex(table).insert(row).returning('id'))[0].id);
    extra.orphan = await id('igny8_users', { email: 'orphan@nowhere.example', password: 'x', role: 'editor' });
    extra.foxtrot = await id('igny8_tenants', { name: 'Foxtrot', slug: 'foxtrot', plan_id: f.plans.free });
    extra.echo = await id('igny8_tenants', { name: 'Echo', slug: 'echo', plan_id: f.plans.free });
    await id('igny8_users', { email: 'first@echo.example', password: 'x', role: 'owner', tenant_id: extra.echo });
    extra.echoSecondOwner = await id('igny8_users', { email: 'second@echo.example', password: 'x', role: 'owner', tenant_id: extra.echo });
    extra.duplicate = await id('igny8_users', { email: 'ann@ACME.example', password: 'x', role: 'viewer', tenant_id: extra.echo });
    extra.siteWithoutIndustry = await id('igny8_sites', { tenant_id: extra.echo, name: 'Echo', slug: 'echo' });
    await id('igny8_account_payment_methods', { tenant_id: extra.echo, type: 'stripe', is_default: true });
    extra.secondDefault = await id('igny8_account_payment_methods', { tenant_id: extra.echo, type: 'paypal', is_default: true });
    await knex('igny8_tenants').where({ id: f.accounts.delta }).update({ credits: -5 });
    extra.crossSector = await id('igny8_sectors', { tenant_id: f.accounts.bravo, site_id: f.sites.acmeBlog, name: 'Cross', slug: 'cross' });
  });

  it('applies the bookkeeping tables first, then stops at the first blocked migration', async () => {
    const run = await migrateLatest(fx.db, { env });
    expect(run.results.find((r) => r.name === '0002_bookkeeping_tables')?.status).toBe('applied');
    expect(run.results.find((r) => r.status === 'failed')?.name).toBe('0008_users_account_not_null');
    expect(run.error).toBeInstanceOf(DomainRefusal);
  });

  for (const [index, step] of STEPS.entries()) {
    it(`${index + 1}. ${step.blocked} refuses with the count and the remedy, changing nothing`, async () => {
      const applied = await migrateLatest(fx.db, { env, to: previous(step.blocked) });
      expect(applied.error).toBeUndefined();
      // Expand never waits for a repair: every expand migration applies over the bad rows.
      const expanded = await migrateLatest(fx.db, { env, phase: 'expand' });
      expect(expanded.error).toBeUndefined();
      const before = await everything(fx.db.knex);
      const run = await migrateLatest(fx.db, { env });
      const failed = run.results.find((r) => r.status === 'failed');
      expect(failed?.name).toBe(step.blocked);
      expect(run.results.filter((r) => r.status === 'applied')).toEqual([]);
      const error = run.error as DomainRefusal;
      expect(error).toBeInstanceOf(DomainRefusal);
      expect(error.exitCode).toBe(ExitCode.refused);
      expect(error.code).toBe('migration-blocked');
      for (const pattern of step.message) expect(error.message).toMatch(pattern);
      for (const pattern of step.details) expect(error.details.some((line) => pattern.test(line)), `${pattern} in ${error.details.join(' / ')}`).toBe(true);
      expect(await everything(fx.db.knex)).toEqual(before);
      await step.fix(fx.db.knex, f, extra);
    });
  }

  it('applies every migration once the rows are resolved', async () => {
    const run = await migrateLatest(fx.db, { env });
    expect(run.error).toBeUndefined();
    expect(run.results.at(-1)?.status).toBe('applied');
  });
});
