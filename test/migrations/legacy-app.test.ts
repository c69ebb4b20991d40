// The legacy application's own statements (test/helpers/legacy-app.ts) across the rollout:
// they run on the legacy schema, and still after `migrate --phase expand`, with what they write
// also right in the new structures; the audit finds nothing new that the repairs do not fix;
// contract then applies, carrying every value; and the target schema refuses what the gap
// analysis calls defects.
import { beforeAll, expect, it } from 'vitest';
import { runAudit, type AuditReport } from '../../src/audit/run.js';
import { decryptSecret, parseSecretKey } from '../../src/crypto/index.js';
import { migrateLatest } from '../../src/db/migrator.js';
import { runRepairs } from '../../src/repairs/run.js';
import { REPAIRABLE_IDS } from '../../src/rules/registry.js';
import { registerTestSecret } from '../helpers/cli.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { EMAIL_TAKEN, legacyJourney, legacyKnex, type JourneyResult } from '../helpers/legacy-app.js';
import { createLegacySchema, insertLegacyFixture, TEST_SECRET_KEY, type LegacyFixture } from '../helpers/legacy-fixture.js';

const env = { IGNY8_SECRET_KEY: TEST_SECRET_KEY };
const SECRETS = { appPassword: 'legacy-app-wp-Pa55-ß', apiKey: 'sk_legacy_app_key_987' };
for (const secret of Object.values(SECRETS)) registerTestSecret(secret);

const counts = (report: AuditReport) =>
  new Map(report.checks.map((check) => [check.id, check.status === 'findings' ? check.count : 0]));

describeEachDatabase('the legacy application across expand and contract', (fx) => {
  let f: LegacyFixture;
  let during: JourneyResult;
  let beforeJourney: AuditReport;

  beforeAll(async () => {
    await createLegacySchema(fx.db);
    f = await insertLegacyFixture(fx.db.knex);
  });

  it('runs on the legacy schema', async () => {
    const before = await legacyKnex(fx.db.knex, (sql) => legacyJourney(sql, 'before', SECRETS));
    expect(before.reads.dashboard[0]).toMatchObject({ plan: 'mix', payment_method: 'paypal', credits: 2000 + 500 - 120 });
  });

  it('after --phase expand every statement still succeeds, reading what it wrote', async () => {
    const expand = await migrateLatest(fx.db, { env, phase: 'expand' });
    expect(expand.error).toBeUndefined();
    beforeJourney = await runAudit(fx.db.knex, { sample: 0 });
    during = await legacyKnex(fx.db.knex, (sql) => legacyJourney(sql, 'during', SECRETS));
    const { reads } = during;
    expect(reads.login).toHaveLength(1);
    expect(reads.dashboard[0]).toMatchObject({ plan: 'mix', payment_method: 'paypal', credits: 2380, max_industries: 0, credits_per_month: 3000 });
    expect(Number(reads.dashboard[0].owner_id)).toBe(during.paid.user);
    expect(reads.ledger.map((row) => row.amount)).toEqual([-120, 500, 2000]);
    expect(reads.sectors).toHaveLength(1);
    expect(reads.billing[0]).toMatchObject({ payment_method: 'paypal', status: 'pending_payment' });
    expect(reads.paymentMethods.map((row) => [row.type, row.is_default])).toEqual([['bank_transfer', false], ['paypal', true]]);
    // The legacy application reads back what it wrote; the repair moves it (DECISIONS: never encrypted in the database).
    expect(reads.wordpress[0]).toMatchObject({ wp_app_password: SECRETS.appPassword, wp_api_key: SECRETS.apiKey });
  });

  it('after --phase expand the legacy email lookup reads its index, not every user', async () => {
    const plan = await fx.db.knex.transaction(async (trx) => {
      await trx.raw('set local enable_seqscan = off');
      const explained = await legacyKnex(trx, (sql) => sql(`explain ${EMAIL_TAKEN}`, ['someone@example.com']));
      return explained.map((row) => String(row['QUERY PLAN'])).join('\n');
    });
    expect(plan).toContain('igny8_users_email_upper_idx');
  });

  it('what the legacy application wrote is complete in the new structures', async () => {
    const knex = fx.db.knex;
    const account = await knex('igny8_accounts').where({ id: during.paid.tenant }).first();
    expect(account).toMatchObject({ slug: 'paid-during', plan_id: f.plans.mix });
    const user = await knex('igny8_users').where({ id: during.paid.user }).first();
    expect(Number(user.account_id)).toBe(during.paid.tenant);
    // A subscription inserted without a plan gets the account's.
    const subscription = await knex('igny8_subscriptions').where({ id: during.paid.subscription }).first();
    expect(Number(subscription.plan_id)).toBe(f.plans.mix);
    expect(Number(subscription.account_id)).toBe(during.paid.tenant);
    // An access row inserted without an account gets its site's.
    const access = await knex('igny8_site_user_access').where({ site_id: during.sites.withIndustry }).first();
    expect(Number(access.account_id)).toBe(during.paid.tenant);
    const ledger = await knex('igny8_credit_transactions').where({ account_id: during.paid.tenant }).orderBy('id');
    expect(ledger.map((row) => row.balance_after)).toEqual([2000, 2500, 2380]);
  });

  it('the audit finds nothing new that the repairs do not fix', async () => {
    const after = await runAudit(fx.db.knex, { sample: 0 });
    const before = counts(beforeJourney);
    const raised = after.checks.filter((check) => check.status === 'findings' && check.count > (before.get(check.id) ?? 0));
    expect(raised.length).toBeGreaterThan(0);
    for (const check of raised) expect(`${check.id}: ${check.repairable}`).toBe(`${check.id}: true`);
    const repaired = await runRepairs(fx.db, REPAIRABLE_IDS, { kind: fx.db.kind, dataDir: fx.db.dataDir, env, apply: true, defaultIndustry: 'tech' });
    expect(repaired.failed).toBeUndefined();
    const clean = await runAudit(fx.db.knex, { sample: 0 });
    for (const check of clean.checks.filter((c) => c.repairable && c.status === 'findings')) {
      expect({ id: check.id, count: check.count }).toEqual({ id: check.id, count: 0 });
    }
  });

  it('contract applies and carries every value: one owner per account, secrets encrypted', async () => {
    const contract = await migrateLatest(fx.db, { env, phase: 'contract' });
    expect(contract.error).toBeUndefined();
    const knex = fx.db.knex;
    const owners = await knex.raw(
      `select a.slug, count(u.id)::int as owners from igny8_accounts a left join igny8_users u on u.account_id = a.id and u.role = 'owner'
        group by a.slug having count(u.id) <> 1`,
    );
    expect(owners.rows).toEqual([]);
    const integration = await knex('igny8_site_integrations').where({ site_id: during.sites.withIndustry, platform: 'wordpress' }).first();
    const key = parseSecretKey(TEST_SECRET_KEY);
    expect(JSON.stringify(integration.credentials_json)).not.toContain(SECRETS.appPassword);
    expect(decryptSecret(integration.credentials_json.app_password, key)).toBe(SECRETS.appPassword);
    expect(decryptSecret(integration.credentials_json.api_key, key)).toBe(SECRETS.apiKey);
    const site = await knex('igny8_sites').where({ id: during.sites.withoutIndustry }).first();
    expect(site.industry_id).not.toBeNull();
    const invoice = await knex('igny8_invoices').where({ id: during.paid.invoice }).first();
    expect(invoice.billing_snapshot.email).toBe('paid.during@legacy.example');
    const methods = await knex('igny8_account_payment_methods').where({ account_id: during.paid.tenant, is_default: true });
    expect(methods.map((row) => row.type)).toEqual(['paypal']);
  });

  it('the target schema refuses what the gap analysis calls defects', async () => {
    const knex = fx.db.knex;
    const account = during.paid.tenant;
    const refused = async (statement: string, bindings: unknown[], error: RegExp) => {
      await expect(knex.transaction((trx) => trx.raw(statement, bindings as never[])), statement).rejects.toThrow(error);
    };
    // #3: a user without an account; a second owner.
    await refused(`insert into igny8_users (email, password, role) values ('loose@x.example', 'x', 'owner')`, [], /account_id/);
    await refused(`insert into igny8_users (email, password, role, account_id) values ('second@x.example', 'x', 'owner', ?)`, [account], /igny8_users_one_owner_per_account/);
    await refused(`update igny8_accounts set owner_id = null where id = ?`, [account], /owner_id/);
    // #1, #2: a subscription without a plan.
    await refused(
      `insert into igny8_subscriptions (account_id, status, current_period_start, current_period_end) values (?, 'active', now(), now())`,
      [during.free.tenant],
      /plan_id/,
    );
    // #4: a site without an industry.
    await refused(`insert into igny8_sites (account_id, name, slug) values (?, 'x', 'no-industry')`, [account], /industry_id/);
    // #8: the payment method in the old places; a second default.
    await refused(`update igny8_accounts set payment_method = 'stripe' where id = ?`, [account], /payment_method/);
    await refused(
      `insert into igny8_account_payment_methods (account_id, type, is_default) values (?, 'stripe', true)`,
      [account],
      /igny8_account_payment_methods_one_default/,
    );
    // #11: a negative balance; a ledger row changed in place.
    await refused(`update igny8_accounts set credits = -1 where id = ?`, [account], /igny8_accounts_credits_non_negative/);
    await refused(`update igny8_credit_transactions set amount = 0 where account_id = ?`, [account], /immutable/);
    // #12: WordPress credentials in the site row.
    await refused(`update igny8_sites set wp_app_password = 'x' where id = ?`, [during.sites.withIndustry], /wp_app_password/);
    // #6, #13, #7: the retired columns.
    await refused(`update igny8_invoices set billing_email = 'x@x.example' where id = ?`, [during.paid.invoice], /billing_email/);
    await refused(`update igny8_plans set credits_per_month = 1 where slug = 'mix'`, [], /credits_per_month/);
    await refused(`insert into igny8_plans (name, slug, max_sectors_per_site) values ('x', 'x-plan', null)`, [], /max_sectors_per_site/);
    // Emails differing only in case; a sector hanging off another account's site.
    await refused(
      `insert into igny8_users (email, password, role, account_id) values (?, 'x', 'editor', ?)`,
      ['FREE.DURING@legacy.example', account],
      /igny8_users_email_lower_key/,
    );
    await refused(
      `insert into igny8_sectors (account_id, site_id, name, slug) values (?, ?, 'x', 'cross')`,
      [during.free.tenant, during.sites.withIndustry],
      /igny8_sectors_account_id_site_id_fkey/,
    );
    // And the legacy names are gone: the legacy application must be retired before contract.
    await expect(legacyKnex(knex, (sql) => sql(`select 1 from igny8_tenants`))).rejects.toThrow(/igny8_tenants/);
  });
});
