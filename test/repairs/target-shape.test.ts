// After the migrations, drift can still appear (a balance edited by hand, an access row
// deleted, a secret pasted into an integration). The repairs work on the target shape too,
// through its names (igny8_accounts, account_id, idempotency_key, billing_snapshot).
import { beforeAll, expect, it } from 'vitest';
import { runAudit, type AuditReport } from '../../src/audit/run.js';
import { decryptSecret } from '../../src/crypto/index.js';
import { registerAccount } from '../../src/domain/register.js';
import { createSite } from '../../src/domain/sites.js';
import { REPAIRABLE_IDS } from '../../src/rules/registry.js';
import { runRepairs } from '../../src/repairs/run.js';
import { describeEachDatabase } from '../helpers/databases.js';
import { FAST_SCRYPT } from '../helpers/domain-fixtures.js';
import { checkCount, repairOptions, TEST_KEY } from '../helpers/repair-fixtures.js';
import { all, count } from '../helpers/sql.js';

describeEachDatabase('repairs on the target shape', (fixture) => {
  const ids: Record<string, number> = {};
  let auditBeforeDrift: AuditReport;
  let auditAfterDrift: AuditReport;

  // A migrated database the domain commands filled, then drift planted by hand.
  beforeAll(async () => {
    const knex = fixture.db.knex;
    const register = (email: string, plan: string, accountName: string) =>
      registerAccount(knex, { email, password: 'Sup3r-Secret-Pa55', accountName, plan }, { scryptCost: FAST_SCRYPT });
    const free = await register('free.owner@example.com', 'free', 'Free Co');
    const paid = await register('paid.owner@example.com', 'growth', 'Paid Co');
    const other = await register('other.owner@example.com', 'scale', 'Other Co');
    ids.free = free.account.id;
    ids.paid = paid.account.id;
    ids.other = other.account.id;
    const site = await createSite(knex, { account: free.account.slug, name: 'Blog', domain: 'blog.example.com', industry: 'technology' });
    ids.site = site.id;
    // A member from the account's first moment (a user added later, while it waits for its
    // payment, would be inactive-account-activity).
    await knex.raw(
      `insert into igny8_users (email, password, role, account_id, date_joined)
       select 'second@example.com', 'x', 'admin', id, created_at from igny8_accounts where id = ?`,
      [ids.other],
    );
    auditBeforeDrift = await runAudit(knex, { sample: 0 });

    await knex.raw(`update igny8_plans set included_credits = 5 where slug = 'growth'`); // plan-catalog-drift
    await knex.raw(`update igny8_accounts set credits = credits + 7 where id = ?`, [ids.free]); // credit-balance-drift
    await knex.raw(`update igny8_users set role = 'admin' where account_id = ? and role = 'owner'`, [ids.other]); // account-without-owner
    await knex.raw(`delete from igny8_site_user_access where site_id = ?`, [ids.site]); // site-access-missing
    await knex.raw(`update igny8_account_payment_methods set is_default = false where account_id = ?`, [ids.paid]); // payment-method-drift
    await knex.raw(`delete from igny8_invoices where account_id = ?`, [ids.other]); // pending-payment-incomplete
    await knex.raw(`update igny8_invoices set billing_snapshot = '{"email": ""}' where account_id = ?`, [ids.paid]); // snapshot missing
    await knex.raw(
      `insert into igny8_site_integrations (account_id, site_id, platform, config_json, credentials_json)
       values (?, ?, 'custom', '{}', '{"api_key": "sk_live_wp_api_key_123", "endpoint": "https://x.example.com"}')`,
      [ids.free, ids.site],
    ); // plaintext-credentials
    // signup-credit-shortfall: a free account whose signup grant was 100.
    const [short] = await all<{ id: number }>(
      knex,
      `insert into igny8_accounts (name, slug, plan_id, credits, status, billing_email)
       select 'Short Co', 'short-co', id, 100, 'active', 'short@example.com' from igny8_plans where slug = 'free' returning id`,
    );
    ids.short = short.id;
    await knex.raw(`insert into igny8_users (email, password, role, account_id) values ('short@example.com', 'x', 'owner', ?)`, [ids.short]);
    await knex.raw(
      `insert into igny8_credit_transactions (account_id, transaction_type, amount, balance_after, description, idempotency_key)
       values (?, 'subscription', 100, 100, 'signup credits', 'signup')`,
      [ids.short],
    );
    auditAfterDrift = await runAudit(knex, { sample: 0 });
  });

  it('the audit finds nothing in what the domain commands made, and each planted drift once', () => {
    expect(auditBeforeDrift.exitCode).toBe(0);
    const found = Object.fromEntries(auditAfterDrift.checks.filter((check) => check.count > 0).map((check) => [check.id, check.count]));
    expect(found).toEqual({
      'plan-catalog-drift': 1,
      'credit-balance-drift': 1,
      'account-without-owner': 1,
      'site-access-missing': 1,
      'payment-method-drift': 1,
      'pending-payment-incomplete': 1,
      'invoice-billing-snapshot-missing': 1,
      'plaintext-credentials': 1,
      'signup-credit-shortfall': 1,
    });
  });

  it('repair --all --yes clears every one, and the audit exits 0', async () => {
    const { db } = fixture;
    const report = await runRepairs(db, REPAIRABLE_IDS, { ...repairOptions(db), apply: true });
    expect(report.failed).toBeUndefined();
    const audit = await runAudit(db.knex, { sample: 0 });
    expect(audit.checks.filter((check) => check.count > 0).map((check) => check.id)).toEqual([]);
    expect(audit.exitCode).toBe(0);
  });

  it('did each as the domain would have', async () => {
    const { db } = fixture;
    const knex = db.knex;
    // The second admin of the ownerless account is the earliest admin: the original owner.
    const [owner] = await all<{ email: string }>(knex, `select email from igny8_users where account_id = ? and role = 'owner'`, [ids.other]);
    expect(owner.email).toBe('other.owner@example.com');
    // The missing invoice: numbered from the sequence, with a snapshot and the plan's line item.
    const [invoice] = await all<{ invoice_number: string; billing_snapshot: Record<string, unknown>; total: string; line_items: unknown[] }>(
      knex,
      `select invoice_number, billing_snapshot, total, line_items from igny8_invoices where account_id = ?`,
      [ids.other],
    );
    expect(invoice.invoice_number).toMatch(/^INV-\d{8}$/);
    expect(invoice.billing_snapshot.email).toBe('other.owner@example.com');
    expect(invoice.total).toBe('229.00');
    expect(invoice.line_items).toHaveLength(1);
    // The shortfall: one grant of 900 with the idempotency key, balance and ledger together.
    const [grant] = await all<{ amount: number; balance_after: number; idempotency_key: string }>(
      knex,
      `select amount, balance_after, idempotency_key from igny8_credit_transactions where account_id = ? order by id desc limit 1`,
      [ids.short],
    );
    expect(grant).toEqual({ amount: 900, balance_after: 1000, idempotency_key: `signup-credit-shortfall:${ids.short}` });
    expect(await count(knex, 'igny8_accounts', 'id = ? and credits = 1000', [ids.short])).toBe(1);
    // The balance of the drifted account is untouched; the ledger caught up with it.
    const [adjustment] = await all<{ amount: number; transaction_type: string }>(
      knex,
      `select amount, transaction_type from igny8_credit_transactions where account_id = ? order by id desc limit 1`,
      [ids.free],
    );
    expect(adjustment).toEqual({ amount: 7, transaction_type: 'adjustment' });
    // The pasted secret is encrypted in place.
    const [integration] = await all<{ credentials_json: Record<string, unknown> }>(
      knex,
      `select credentials_json from igny8_site_integrations where platform = 'custom' and site_id = ?`,
      [ids.site],
    );
    expect(decryptSecret(integration.credentials_json.api_key, Buffer.from(TEST_KEY, 'hex'))).toBe('sk_live_wp_api_key_123');
    expect(integration.credentials_json.endpoint).toBe('https://x.example.com');
    expect(await checkCount(knex, 'plaintext-credentials')).toBe(0);
    const log = JSON.stringify(await all(knex, 'select before, after from igny8_repair_log'));
    expect(log).not.toContain('sk_live_wp_api_key_123');
    // The default payment method is the account's existing one again.
    expect(await count(knex, 'igny8_account_payment_methods', 'account_id = ? and is_default', [ids.paid])).toBe(1);
    expect(await count(knex, 'igny8_account_payment_methods', 'account_id = ?', [ids.paid])).toBe(1);
  });
}, { migrated: true });
