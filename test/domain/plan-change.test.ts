// Plan changes: prorated upgrades now, downgrades at period end, refusals over the smaller
// plan's limits, free ↔ paid as signup does it, dry runs, and two operators at once.
import type { Knex } from 'knex';
import { expect, it } from 'vitest';
import { runBilling } from '../../src/domain/billing-run.js';
import { payInvoice } from '../../src/domain/payments.js';
import { changePlan } from '../../src/domain/plan-change.js';
import { registerAccount, type Registration } from '../../src/domain/register.js';
import { createSite } from '../../src/domain/sites.js';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { describeEachDatabase, describeOnServer } from '../helpers/databases.js';
import { countRows, FAST_SCRYPT, uniqueEmail, uniqueName } from '../helpers/domain-fixtures.js';
import { migratedServerPool } from '../helpers/templates.js';

async function active(knex: Knex, plan: string): Promise<Registration> {
  const r = await registerAccount(
    knex,
    { email: uniqueEmail('plan'), password: 'Test123!x', accountName: uniqueName('Plan'), plan },
    { scryptCost: FAST_SCRYPT },
  );
  if (r.invoice) await payInvoice(knex, { number: r.invoice.number });
  return r;
}

async function plans(knex: Knex, accountId: number) {
  const [row] = await knex('igny8_accounts as a')
    .join('igny8_plans as p', 'p.id', 'a.plan_id')
    .leftJoin('igny8_subscriptions as s', 's.account_id', 'a.id')
    .leftJoin('igny8_plans as sp', 'sp.id', 's.plan_id')
    .leftJoin('igny8_plans as np', 'np.id', 's.scheduled_plan_id')
    .where('a.id', accountId)
    .select('a.status', 'a.credits', 'p.slug as account_plan', 'sp.slug as subscription_plan', 'np.slug as scheduled', 's.status as subscription_status');
  return row as Record<string, unknown>;
}

describeEachDatabase(
  'change-plan',
  (fx) => {
    it('an upgrade takes effect now with a prorated invoice; paying it grants the credit difference once', async () => {
      const r = await active(fx.db.knex, 'starter');
      const change = await changePlan(fx.db.knex, { account: r.account.slug, plan: 'growth' });
      expect(change).toMatchObject({ kind: 'upgrade', at: 'now', from: { slug: 'starter' }, to: { slug: 'growth' } });
      // The period has just begun: nearly all of the 50.00 difference.
      expect(Number(change.invoice!.total)).toBeGreaterThan(49.9);
      expect(Number(change.invoice!.total)).toBeLessThanOrEqual(50);
      expect(change.prorationFactor).toBeGreaterThan(0.99);
      expect(await plans(fx.db.knex, r.account.id)).toMatchObject({ account_plan: 'growth', subscription_plan: 'growth', status: 'active', credits: 1000 });
      const [invoice] = await fx.db.knex('igny8_invoices').where('invoice_number', change.invoice!.number);
      expect(invoice.metadata).toMatchObject({ source: 'proration', from_plan: 'starter', plan: 'growth', credit_difference: 1000 });
      const paid = await payInvoice(fx.db.knex, { number: change.invoice!.number });
      expect(paid.credits).toMatchObject({ balance: 2000, entry: { amount: 1000, idempotencyKey: change.invoice!.number } });
      expect((await payInvoice(fx.db.knex, { number: change.invoice!.number })).replayed).toBe(true);
      expect((await plans(fx.db.knex, r.account.id)).credits).toBe(2000);
    });

    it('a downgrade waits for the period end, where the billing run applies it and bills the smaller plan', async () => {
      const r = await active(fx.db.knex, 'growth');
      const change = await changePlan(fx.db.knex, { account: r.account.slug, plan: 'starter' });
      expect(change).toMatchObject({ kind: 'downgrade', at: 'period-end', subscription: { plan: 'growth', scheduledPlan: 'starter' } });
      expect(change.invoice).toBeUndefined();
      expect(await plans(fx.db.knex, r.account.id)).toMatchObject({ account_plan: 'growth', scheduled: 'starter' });
      await runBilling(fx.db.knex, { asOf: new Date(Date.now() + 32 * 86_400_000), graceDays: 14 });
      expect(await plans(fx.db.knex, r.account.id)).toMatchObject({ account_plan: 'starter', subscription_plan: 'starter', scheduled: null });
      const renewal = await fx.db.knex('igny8_invoices').where('account_id', r.account.id).whereRaw(`metadata->>'source' = 'renewal'`).select('total');
      expect(renewal).toEqual([{ total: '89.00' }]);
    });

    it('a downgrade is refused while the account has more than the smaller plan allows, listing what must go', async () => {
      const r = await active(fx.db.knex, 'growth');
      for (const name of ['One', 'Two']) {
        await createSite(fx.db.knex, { account: r.account.slug, name, domain: `${name.toLowerCase()}.example.com`, industry: 'technology' });
      }
      const before = await countRows(fx.db.knex);
      const refused = changePlan(fx.db.knex, { account: r.account.slug, plan: 'starter', at: 'now' });
      await expect(refused).rejects.toBeInstanceOf(DomainRefusal);
      await expect(refused).rejects.toMatchObject({
        message: `account "${r.account.slug}" does not fit plan "starter": this must go first`,
        details: ['sites: 2, plan "starter" allows 1: remove 1 of them (one, two)'],
      });
      await expect(changePlan(fx.db.knex, { account: r.account.slug, plan: 'free' })).rejects.toThrow(/does not fit plan "free"/);
      expect(await countRows(fx.db.knex)).toEqual(before);
      expect(await plans(fx.db.knex, r.account.id)).toMatchObject({ account_plan: 'growth', scheduled: null });
    });

    it('free → paid as a paid signup: pending until its invoice is paid; paid → free now ends the subscription', async () => {
      const r = await active(fx.db.knex, 'free');
      const change = await changePlan(fx.db.knex, { account: r.account.slug, plan: 'starter' });
      expect(change).toMatchObject({ kind: 'upgrade', at: 'now', account: { previousStatus: 'active', status: 'pending_payment' }, invoice: { total: '89.00' } });
      expect(await plans(fx.db.knex, r.account.id)).toMatchObject({ account_plan: 'starter', subscription_plan: 'starter', subscription_status: 'pending_payment' });
      const methods = await fx.db.knex('igny8_account_payment_methods').where({ account_id: r.account.id, is_default: true });
      expect(methods).toHaveLength(1);
      const paid = await payInvoice(fx.db.knex, { number: change.invoice!.number });
      expect(paid.account.status).toBe('active');
      const back = await changePlan(fx.db.knex, { account: r.account.slug, plan: 'free', at: 'now' });
      expect(back).toMatchObject({ kind: 'downgrade', at: 'now' });
      expect(await plans(fx.db.knex, r.account.id)).toMatchObject({ account_plan: 'free', subscription_plan: 'free', subscription_status: 'canceled', status: 'active' });
    });

    it('--dry-run shows the change and writes nothing; the same plan is refused; a pending account is gated', async () => {
      const r = await active(fx.db.knex, 'starter');
      const before = await countRows(fx.db.knex);
      const dry = await changePlan(fx.db.knex, { account: r.account.slug, plan: 'scale', dryRun: true });
      expect(dry).toMatchObject({ dryRun: true, kind: 'upgrade', subscription: { plan: 'scale' } });
      expect(Number(dry.invoice!.total)).toBeGreaterThan(139);
      expect(await countRows(fx.db.knex)).toEqual(before);
      expect(await plans(fx.db.knex, r.account.id)).toMatchObject({ account_plan: 'starter' });
      await expect(changePlan(fx.db.knex, { account: r.account.slug, plan: 'starter' })).rejects.toThrow(/is on plan "starter" already/);
      // Scheduling then choosing the current plan cancels the schedule.
      await changePlan(fx.db.knex, { account: r.account.slug, plan: 'free' });
      expect(await plans(fx.db.knex, r.account.id)).toMatchObject({ scheduled: 'free' });
      expect(await changePlan(fx.db.knex, { account: r.account.slug, plan: 'starter' })).toMatchObject({ kind: 'cancel-scheduled' });
      expect(await plans(fx.db.knex, r.account.id)).toMatchObject({ scheduled: null });
      const pending = await registerAccount(
        fx.db.knex,
        { email: uniqueEmail('pend'), password: 'Test123!x', accountName: uniqueName('Pend'), plan: 'starter' },
        { scryptCost: FAST_SCRYPT },
      );
      await expect(changePlan(fx.db.knex, { account: pending.account.slug, plan: 'growth' })).rejects.toThrow(
        new RegExp(`is pending_payment: no plan changes: pay invoice ${pending.invoice!.number}`),
      );
      await expect(changePlan(fx.db.knex, { account: r.account.slug, plan: 'platinum' })).rejects.toBeInstanceOf(ValidationError);
    });
  },
  { migrated: true },
);

describeOnServer('change-plan at once [postgres]', () => {
  const pool = migratedServerPool(6);

  it('two operators upgrading one account: one upgrade, one prorated invoice, the other told it is done', async () => {
    const r = await active(pool.db.knex, 'starter');
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => changePlan(pool.db.knex, { account: r.account.slug, plan: 'growth' })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.status === 'rejected')) {
      expect((o as PromiseRejectedResult).reason.message).toMatch(/is on plan "growth" already/);
    }
    const invoices = await pool.db.knex('igny8_invoices').where('account_id', r.account.id).whereRaw(`metadata->>'source' = 'proration'`);
    expect(invoices).toHaveLength(1);
  });
});
