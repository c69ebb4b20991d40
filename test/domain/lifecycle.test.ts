// The account lifecycle's payment half: the status history, gating by status, paying and
// voiding invoices (once, whatever the retries or races), debits.
import type { Knex } from 'knex';
import { expect, it } from 'vitest';
import { debitAccountCredits, grantAccountCredits } from '../../src/domain/credit-operations.js';
import { payInvoice, voidInvoice } from '../../src/domain/payments.js';
import { registerAccount, type Registration } from '../../src/domain/register.js';
import { createSector } from '../../src/domain/sectors.js';
import { createSite } from '../../src/domain/sites.js';
import { DomainRefusal, ValidationError } from '../../src/errors.js';
import { runAudit } from '../../src/audit/run.js';
import * as api from '../../src/index.js';
import { showAccount } from '../../src/domain/accounts.js';
import { renderAccount } from '../../src/render/domain.js';
import { runRepairs } from '../../src/repairs/run.js';
import { findRule } from '../../src/rules/registry.js';
import { repairOptions } from '../helpers/repair-fixtures.js';
import { describeEachDatabase, describeOnServer } from '../helpers/databases.js';
import { brokenLedgerRows, countRows, FAST_SCRYPT, uniqueEmail, uniqueName } from '../helpers/domain-fixtures.js';
import { migratedServerPool } from '../helpers/templates.js';

export async function signUp(knex: Knex, plan: string): Promise<Registration> {
  return registerAccount(
    knex,
    { email: uniqueEmail('life'), password: 'Test123!x', accountName: uniqueName('Life'), plan },
    { scryptCost: FAST_SCRYPT },
  );
}

async function account(knex: Knex, id: number) {
  const [row] = await knex('igny8_accounts').where('id', id).select('status', 'credits');
  return row as { status: string; credits: number };
}

async function history(knex: Knex, id: number) {
  return (await knex('igny8_account_status_history').where('account_id', id).orderBy('id').select('from_status', 'to_status', 'reason')) as Array<{
    from_status: string | null;
    to_status: string;
    reason: string | null;
  }>;
}

async function keyed(knex: Knex, accountId: number, key: string) {
  return knex('igny8_credit_transactions').where({ account_id: accountId, idempotency_key: key }).select('amount', 'balance_after', 'transaction_type');
}

describeEachDatabase(
  'account lifecycle: payment, gating, debits',
  (fx) => {
    it('every status change is recorded, with the reason a command gives', async () => {
      const r = await signUp(fx.db.knex, 'starter');
      expect(await history(fx.db.knex, r.account.id)).toEqual([{ from_status: null, to_status: 'pending_payment', reason: null }]);
      await payInvoice(fx.db.knex, { number: r.invoice!.number });
      // A change made outside igny8 (the legacy application) is recorded too, without a reason.
      await fx.db.knex('igny8_accounts').where('id', r.account.id).update({ status: 'suspended' });
      await fx.db.knex('igny8_accounts').where('id', r.account.id).update({ name: 'renamed' }); // no status change: no row
      expect(await history(fx.db.knex, r.account.id)).toEqual([
        { from_status: null, to_status: 'pending_payment', reason: null },
        { from_status: 'pending_payment', to_status: 'active', reason: `invoice pay ${r.invoice!.number}` },
        { from_status: 'active', to_status: 'suspended', reason: null },
      ]);
      // account show: the history newest first, and nothing left to pay.
      const view = await showAccount(fx.db.knex, r.account.slug);
      expect(view.statusHistory.map((h) => h.toStatus)).toEqual(['suspended', 'active', 'pending_payment']);
      expect(view.openInvoices).toEqual([]);
      expect(renderAccount(view, 100).join('\n')).toMatch(/status history[\s\S]*pending_payment\s*│\s*active\s*│\s*invoice pay INV-/);
      const pending = await signUp(fx.db.knex, 'starter');
      expect((await showAccount(fx.db.knex, pending.account.slug)).openInvoices).toEqual([pending.invoice!.number]);
    });

    it('a pending_payment account cannot grow: sites, sectors and grants are refused naming the invoice, nothing written', async () => {
      const r = await signUp(fx.db.knex, 'growth');
      const before = await countRows(fx.db.knex);
      const site = createSite(fx.db.knex, { account: r.account.slug, name: 'S', domain: 's.example.com', industry: 'technology' });
      await expect(site).rejects.toBeInstanceOf(DomainRefusal);
      await expect(site).rejects.toThrow(new RegExp(`is pending_payment: no new sites: pay invoice ${r.invoice!.number} \\(139\\.00 USD, pending\\) first`));
      await expect(grantAccountCredits(fx.db.knex, { account: r.account.slug, amount: 5, reason: 'gift' })).rejects.toThrow(
        /is pending_payment: no grants: pay invoice INV-/,
      );
      expect(await countRows(fx.db.knex)).toEqual(before);
      // Once paid, the same calls succeed; a suspended account is refused sectors too.
      await payInvoice(fx.db.knex, { number: r.invoice!.number });
      const created = await createSite(fx.db.knex, { account: r.account.slug, name: 'S', domain: 's.example.com', industry: 'technology' });
      await fx.db.knex('igny8_accounts').where('id', r.account.id).update({ status: 'suspended' });
      await expect(createSector(fx.db.knex, { site: String(created.id), industrySector: 'saas' })).rejects.toThrow(
        /is suspended: no new sectors: it has no open invoice to pay/,
      );
      await fx.db.knex('igny8_accounts').where('id', r.account.id).update({ status: 'cancelled' });
      await expect(grantAccountCredits(fx.db.knex, { account: r.account.slug, amount: 5, reason: 'gift' })).rejects.toThrow(
        /is cancelled: no grants: a cancelled account takes nothing new/,
      );
    });

    it('paying a signup invoice activates account and subscription and grants the plan credits once, keyed by the invoice', async () => {
      const r = await signUp(fx.db.knex, 'starter');
      const number = r.invoice!.number;
      const paid = await payInvoice(fx.db.knex, { number, reference: 'bank-2026-001', paidAt: new Date('2026-01-02T03:04:05Z') });
      expect(paid).toMatchObject({
        replayed: false,
        invoice: { status: 'paid', reference: 'bank-2026-001' },
        account: { status: 'active', previousStatus: 'pending_payment' },
        subscription: { status: 'active', previousStatus: 'pending_payment' },
        credits: { balance: 1000, entry: { amount: 1000, idempotencyKey: number, type: 'subscription' } },
      });
      const [invoice] = await fx.db.knex('igny8_invoices').where('invoice_number', number);
      expect(invoice.status).toBe('paid');
      expect(new Date(invoice.paid_at).toISOString()).toBe('2026-01-02T03:04:05.000Z');
      // Paying again (same reference or none) changes nothing; another reference is refused.
      const again = await payInvoice(fx.db.knex, { number });
      expect(again).toMatchObject({ replayed: true, credits: { replayed: true, entry: { amount: 1000 } } });
      await expect(payInvoice(fx.db.knex, { number, reference: 'other' })).rejects.toThrow(/is paid already \(reference "bank-2026-001"\)/);
      await expect(voidInvoice(fx.db.knex, { number })).rejects.toThrow(/a paid invoice cannot be voided/);
      expect(await keyed(fx.db.knex, r.account.id, number)).toHaveLength(1);
      expect(await account(fx.db.knex, r.account.id)).toEqual({ status: 'active', credits: 1000 });
      expect(await brokenLedgerRows(fx.db.knex, r.account.id)).toBe(0);
    });

    it('a void invoice cannot be paid; voiding twice is a no-op; unknown numbers are bad input', async () => {
      const r = await signUp(fx.db.knex, 'starter');
      const number = r.invoice!.number;
      expect(await voidInvoice(fx.db.knex, { number })).toMatchObject({ replayed: false, invoice: { status: 'void' }, account: { status: 'pending_payment' } });
      expect(await voidInvoice(fx.db.knex, { number })).toMatchObject({ replayed: true });
      const before = await countRows(fx.db.knex);
      await expect(payInvoice(fx.db.knex, { number })).rejects.toThrow(/is void: it cannot be paid/);
      await expect(payInvoice(fx.db.knex, { number: 'INV-99999999' })).rejects.toBeInstanceOf(ValidationError);
      expect(await countRows(fx.db.knex)).toEqual(before);
      expect(await account(fx.db.knex, r.account.id)).toEqual({ status: 'pending_payment', credits: 0 });
    });

    it('paying the overdue invoice of a suspended account reactivates it; the top-up never reduces a balance', async () => {
      const r = await signUp(fx.db.knex, 'starter');
      await payInvoice(fx.db.knex, { number: r.invoice!.number });
      await grantAccountCredits(fx.db.knex, { account: r.account.slug, amount: 500, reason: 'goodwill' });
      // A renewal the customer did not pay: overdue, account suspended, subscription past due.
      const [renewal] = await fx.db.knex('igny8_invoices')
        .insert({
          account_id: r.account.id,
          subscription_id: r.subscription!.id,
          invoice_number: `INV-T${r.account.id}`,
          status: 'overdue',
          subtotal: '89.00',
          total: '89.00',
          invoice_date: '2026-01-01',
          due_date: '2026-01-08',
          billing_snapshot: JSON.stringify({ email: 'x@example.com' }),
          metadata: JSON.stringify({ source: 'renewal', plan: 'starter' }),
        })
        .returning('invoice_number');
      await fx.db.knex('igny8_accounts').where('id', r.account.id).update({ status: 'suspended' });
      await fx.db.knex('igny8_subscriptions').where('id', r.subscription!.id).update({ status: 'past_due' });
      const paid = await payInvoice(fx.db.knex, { number: renewal.invoice_number });
      expect(paid).toMatchObject({
        account: { previousStatus: 'suspended', status: 'active' },
        subscription: { previousStatus: 'past_due', status: 'active' },
        credits: { balance: 1500, entry: { amount: 0, balanceAfter: 1500 } },
      });
      expect(await account(fx.db.knex, r.account.id)).toEqual({ status: 'active', credits: 1500 });
      expect(await brokenLedgerRows(fx.db.knex, r.account.id)).toBe(0);
    });

    it('the programmatic API parses its input first: a bad value names its key, nothing written', async () => {
      const r = await signUp(fx.db.knex, 'starter');
      await expect(api.payInvoice(fx.db.knex, { number: 'x y' })).rejects.toMatchObject({ field: 'number' });
      await expect(api.payInvoice(fx.db.knex, { number: r.invoice!.number, paidAt: '2999-01-01' })).rejects.toMatchObject({ field: 'paidAt' });
      await expect(api.changePlan(fx.db.knex, { account: r.account.slug, plan: 'growth', at: 'soon' as 'now' })).rejects.toMatchObject({ field: 'at' });
      expect(await account(fx.db.knex, r.account.id)).toEqual({ status: 'pending_payment', credits: 0 });
      expect((await api.payInvoice(fx.db.knex, { number: r.invoice!.number, paidAt: '2026-01-01' })).account.status).toBe('active');
    });

    it('debits never overdraw: refused with the balance, nothing written; a key debits once', async () => {
      const r = await signUp(fx.db.knex, 'free');
      await expect(debitAccountCredits(fx.db.knex, { account: r.account.slug, amount: 1001, reason: 'usage' })).rejects.toThrow(
        /insufficient credits: the balance is 1000, the debit 1001/,
      );
      const request = { account: r.account.slug, amount: 300, reason: 'usage', idempotencyKey: 'job-1' };
      expect(await debitAccountCredits(fx.db.knex, request)).toMatchObject({ replayed: false, balance: 700 });
      expect(await debitAccountCredits(fx.db.knex, request)).toMatchObject({ replayed: true, balance: 700 });
      await expect(debitAccountCredits(fx.db.knex, { ...request, amount: 301 })).rejects.toThrow(/idempotency key already used/);
      expect(await account(fx.db.knex, r.account.id)).toEqual({ status: 'active', credits: 700 });
    });

    it('an invoice marked paid by hand is found by paid-invoice-credits-missing; the repair credits it once; then the audit is clean', async () => {
      const r = await signUp(fx.db.knex, 'growth');
      const number = r.invoice!.number;
      await fx.db.knex('igny8_invoices').where('invoice_number', number).update({ status: 'paid', paid_at: new Date() });
      const rule = findRule('paid-invoice-credits-missing')!;
      const scoped = { accountId: r.account.id };
      const found = await runAudit(fx.db.knex, { checks: [rule], sample: 5, accountSlug: r.account.slug });
      expect(found.checks[0]).toMatchObject({ status: 'findings', count: 1, samples: [expect.objectContaining({ key: `invoice:${r.invoice!.id}`, plan_credits: 2000 })] });
      const run = await runRepairs(fx.db, [rule.id], { ...repairOptions(fx.db), ...scoped, apply: true });
      expect(run.failed).toBeUndefined();
      expect(run.items[0].outcome).toBeDefined();
      expect(await keyed(fx.db.knex, r.account.id, number)).toEqual([{ amount: 2000, balance_after: 2000, transaction_type: 'subscription' }]);
      expect((await account(fx.db.knex, r.account.id)).credits).toBe(2000);
      expect(await brokenLedgerRows(fx.db.knex, r.account.id)).toBe(0);
      const after = await runAudit(fx.db.knex, { accountSlug: r.account.slug });
      expect(after.checks.filter((check) => check.status === 'findings').map((check) => check.id)).toEqual([]);
      // A second run finds nothing to do.
      await runRepairs(fx.db, [rule.id], { ...repairOptions(fx.db), ...scoped, apply: true });
      expect(await keyed(fx.db.knex, r.account.id, number)).toHaveLength(1);
    });
  },
  { migrated: true },
);

describeOnServer('invoice payments under concurrency [postgres]', () => {
  const pool = migratedServerPool(10);

  it('8 operators paying one invoice at once: one payment, one grant', async () => {
    const r = await signUp(pool.db.knex, 'growth');
    const results = await Promise.all(Array.from({ length: 8 }, () => payInvoice(pool.db.knex, { number: r.invoice!.number })));
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    expect(await keyed(pool.db.knex, r.account.id, r.invoice!.number)).toHaveLength(1);
    const [plan] = await pool.db.knex('igny8_plans').where('slug', 'growth').select('included_credits');
    expect(await account(pool.db.knex, r.account.id)).toEqual({ status: 'active', credits: plan.included_credits });
    expect(await history(pool.db.knex, r.account.id)).toHaveLength(2);
  });

  it('a payment racing a void: exactly one wins, and credits follow the winner', async () => {
    for (let round = 0; round < 4; round++) {
      const r = await signUp(pool.db.knex, 'starter');
      const outcomes = await Promise.allSettled([
        payInvoice(pool.db.knex, { number: r.invoice!.number }),
        voidInvoice(pool.db.knex, { number: r.invoice!.number }),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      const [invoice] = await pool.db.knex('igny8_invoices').where('invoice_number', r.invoice!.number).select('status');
      const grants = await keyed(pool.db.knex, r.account.id, r.invoice!.number);
      expect(grants).toHaveLength(invoice.status === 'paid' ? 1 : 0);
      expect((await account(pool.db.knex, r.account.id)).status).toBe(invoice.status === 'paid' ? 'active' : 'pending_payment');
    }
  });
});
