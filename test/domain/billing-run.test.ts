// The billing run: renewals with their invoices, free monthly credits, overdue and
// suspension, reactivation by payment; idempotent for one instant, also when two run at once.
import type { Knex } from 'knex';
import { expect, it } from 'vitest';
import { runBilling } from '../../src/domain/billing-run.js';
import { debitAccountCredits } from '../../src/domain/credit-operations.js';
import { payInvoice } from '../../src/domain/payments.js';
import { registerAccount, type Registration } from '../../src/domain/register.js';
import { describeEachDatabase, describeOnServer } from '../helpers/databases.js';
import { brokenLedgerRows, countRows, FAST_SCRYPT, uniqueEmail, uniqueName } from '../helpers/domain-fixtures.js';
import { migratedServerPool } from '../helpers/templates.js';

const DAY = 86_400_000;

async function signUp(knex: Knex, plan: string): Promise<Registration> {
  return registerAccount(
    knex,
    { email: uniqueEmail('bill'), password: 'Test123!x', accountName: uniqueName('Bill'), plan },
    { scryptCost: FAST_SCRYPT },
  );
}

async function state(knex: Knex, accountId: number) {
  const [account] = await knex('igny8_accounts').where('id', accountId).select('status', 'credits');
  const [subscription] = await knex('igny8_subscriptions').where('account_id', accountId).select('status', 'current_period_start', 'current_period_end');
  const invoices = await knex('igny8_invoices').where('account_id', accountId).orderBy('id').select('invoice_number', 'status', 'total', 'invoice_date', 'due_date', 'metadata', 'billing_snapshot', 'line_items');
  return { account, subscription, invoices } as {
    account: { status: string; credits: number };
    subscription?: { status: string; current_period_start: Date; current_period_end: Date };
    invoices: Array<Record<string, any>>;
  };
}

describeEachDatabase(
  'billing run',
  (fx) => {
    const now = Date.now();
    let paid: Registration;
    let unpaid: Registration;
    let free: Registration;

    it('renews ended periods with an invoice, credits free months, marks overdue; the same instant twice changes nothing', async () => {
      paid = await signUp(fx.db.knex, 'starter');
      await payInvoice(fx.db.knex, { number: paid.invoice!.number });
      unpaid = await signUp(fx.db.knex, 'growth');
      free = await signUp(fx.db.knex, 'free');
      await debitAccountCredits(fx.db.knex, { account: free.account.slug, amount: 700, reason: 'usage' });
      const periodEnd = new Date((await state(fx.db.knex, paid.account.id)).subscription!.current_period_end);

      const asOf = new Date(now + 40 * DAY);
      const dry = await runBilling(fx.db.knex, { asOf, graceDays: 14, dryRun: true });
      const before = await countRows(fx.db.knex);
      expect(dry).toMatchObject({ dryRun: true, runId: null });
      expect(await countRows(fx.db.knex)).toEqual(before);

      const first = await runBilling(fx.db.knex, { asOf, graceDays: 14 });
      expect(first.counts).toEqual(dry.counts);
      expect(first.counts).toMatchObject({ renewals: 1, renewalInvoices: 1, monthlyCredits: 1, creditsGranted: 700, overdueInvoices: 2, pastDueSubscriptions: 1, suspendedAccounts: 0 });

      const renewed = await state(fx.db.knex, paid.account.id);
      expect(new Date(renewed.subscription!.current_period_start).getTime()).toBe(periodEnd.getTime());
      expect(renewed.subscription!.status).toBe('past_due');
      const renewal = renewed.invoices[1];
      expect(renewal).toMatchObject({ status: 'overdue', total: '89.00', metadata: { source: 'renewal', plan: 'starter' } });
      expect(renewal.invoice_number).toMatch(/^INV-\d{8}$/);
      expect(renewal.billing_snapshot).toMatchObject({ email: paid.account.billingEmail });
      expect(renewal.line_items).toEqual([expect.objectContaining({ plan: 'starter', amount: '89.00' })]);
      // An unpaid signup is not renewed, and not suspended: it never was active.
      expect(await state(fx.db.knex, unpaid.account.id)).toMatchObject({
        account: { status: 'pending_payment' },
        subscription: { status: 'pending_payment' },
        invoices: [expect.objectContaining({ status: 'overdue' })],
      });
      // The free account is topped up to its plan's credits, one keyed row.
      expect((await state(fx.db.knex, free.account.id)).account).toEqual({ status: 'active', credits: 1000 });
      const monthly = await fx.db.knex('igny8_credit_transactions').where('account_id', free.account.id).where('idempotency_key', 'like', 'period:%');
      expect(monthly).toHaveLength(1);
      expect(monthly[0]).toMatchObject({ amount: 700, balance_after: 1000, transaction_type: 'subscription' });
      expect(await brokenLedgerRows(fx.db.knex, free.account.id)).toBe(0);

      const rows = await countRows(fx.db.knex);
      const again = await runBilling(fx.db.knex, { asOf, graceDays: 14 });
      expect(Object.values(again.counts).every((value) => value === 0)).toBe(true);
      expect(await countRows(fx.db.knex)).toEqual(rows);
      const runs = await fx.db.knex('igny8_billing_runs').orderBy('started_at').select('id', 'ran_by', 'igny8_version', 'counts', 'grace_days');
      expect(runs).toHaveLength(2);
      expect(runs[0]).toMatchObject({ id: first.runId, grace_days: 14, counts: first.counts });
      expect(runs[0].ran_by).toBeTruthy();
      expect(runs[0].igny8_version).toMatch(/^\d+\.\d+\.\d+/);
    });

    it('suspends after the grace period; paying the overdue invoice reactivates and credits the period once', async () => {
      const later = new Date(now + 55 * DAY);
      const run = await runBilling(fx.db.knex, { asOf: later, graceDays: 14 });
      expect(run.counts.suspendedAccounts).toBe(1);
      expect((await state(fx.db.knex, paid.account.id)).account.status).toBe('suspended');
      const [history] = await fx.db.knex('igny8_account_status_history').where({ account_id: paid.account.id, to_status: 'suspended' });
      expect(history.reason).toBe(`billing run ${run.runId}`);
      const renewal = (await state(fx.db.knex, paid.account.id)).invoices[1];
      const payment = await payInvoice(fx.db.knex, { number: renewal.invoice_number });
      expect(payment).toMatchObject({ account: { previousStatus: 'suspended', status: 'active' }, subscription: { status: 'active' } });
      expect(payment.credits?.entry.idempotencyKey).toBe(renewal.invoice_number);
      // A longer grace period suspends nobody.
      expect((await runBilling(fx.db.knex, { asOf: later, graceDays: 60 })).counts.suspendedAccounts).toBe(0);
    });

    it('a billing run that was not run for months renews every missed period, each with its invoice', async () => {
      const r = await signUp(fx.db.knex, 'starter');
      await payInvoice(fx.db.knex, { number: r.invoice!.number });
      const run = await runBilling(fx.db.knex, { asOf: new Date(now + 100 * DAY), graceDays: 365 });
      const after = await state(fx.db.knex, r.account.id);
      expect(after.invoices.filter((invoice) => invoice.metadata.source === 'renewal')).toHaveLength(3);
      expect(run.counts.renewals).toBeGreaterThanOrEqual(3);
      expect(new Date(after.subscription!.current_period_end).getTime()).toBeGreaterThan(now + 100 * DAY);
    });

    it('at period end: a scheduled move to free ends the subscription; cancel_at_period_end cancels the account', async () => {
      const down = await signUp(fx.db.knex, 'starter');
      await payInvoice(fx.db.knex, { number: down.invoice!.number });
      await fx.db.knex('igny8_subscriptions')
        .where('account_id', down.account.id)
        .update({ scheduled_plan_id: fx.db.knex('igny8_plans').where('slug', 'free').select('id') });
      const leaving = await signUp(fx.db.knex, 'starter');
      await payInvoice(fx.db.knex, { number: leaving.invoice!.number });
      await fx.db.knex('igny8_subscriptions').where('account_id', leaving.account.id).update({ cancel_at_period_end: true });
      const run = await runBilling(fx.db.knex, { asOf: new Date(now + 200 * DAY), graceDays: 365 });
      expect(run.counts.planChanges).toBeGreaterThanOrEqual(1);
      expect(run.counts.cancellations).toBeGreaterThanOrEqual(1);
      expect(Object.keys(run.stepMs)).toEqual(['lock', 'periodEnds', 'renewals', 'monthlyCredits', 'overdue', 'suspensions']);
      const moved = await state(fx.db.knex, down.account.id);
      expect(moved).toMatchObject({ account: { status: 'active' }, subscription: { status: 'canceled' } });
      expect(moved.invoices.filter((invoice) => invoice.metadata.source === 'renewal')).toEqual([]);
      const [plan] = await fx.db.knex('igny8_accounts as a').join('igny8_plans as p', 'p.id', 'a.plan_id').where('a.id', down.account.id).select('p.slug');
      expect(plan.slug).toBe('free');
      // Back on free: the monthly credits follow, from the next run on.
      const cancelled = await state(fx.db.knex, leaving.account.id);
      expect(cancelled).toMatchObject({ account: { status: 'cancelled' }, subscription: { status: 'canceled' } });
      const [why] = await fx.db.knex('igny8_account_status_history').where({ account_id: leaving.account.id, to_status: 'cancelled' });
      expect(why.reason).toBe(`billing run ${run.runId}`);
    });
  },
  { migrated: true },
);

describeOnServer('billing runs at once [postgres]', () => {
  const pool = migratedServerPool(6);

  it('four operators running it for one instant bill each period once', async () => {
    const accounts = await Promise.all(Array.from({ length: 5 }, () => signUp(pool.db.knex, 'starter')));
    for (const r of accounts) await payInvoice(pool.db.knex, { number: r.invoice!.number });
    const free = await signUp(pool.db.knex, 'free');
    const asOf = new Date(Date.now() + 35 * DAY);
    const runs = await Promise.all(Array.from({ length: 4 }, () => runBilling(pool.db.knex, { asOf, graceDays: 14 })));
    expect(runs.reduce((sum, run) => sum + run.counts.renewalInvoices, 0)).toBe(5);
    expect(runs.reduce((sum, run) => sum + run.counts.monthlyCredits, 0)).toBe(1);
    const perSubscription = await pool.db.knex('igny8_invoices')
      .whereRaw(`metadata->>'source' = 'renewal'`)
      .groupBy('subscription_id')
      .select('subscription_id', pool.db.knex.raw('count(*)::int as n'));
    expect(perSubscription).toHaveLength(5);
    expect(perSubscription.every((row) => row.n === 1)).toBe(true);
    expect(await brokenLedgerRows(pool.db.knex, free.account.id)).toBe(0);
  });
});
