// Paying and voiding invoices (`igny8 invoice pay`, `igny8 invoice void`). One transaction
// each, with the invoice row locked first: two payments of one invoice, or a payment racing a
// void, run one after the other, and the second sees what the first did.
//
// What a payment does, as Stripe does on `invoice.paid`:
// - the invoice becomes paid (paid_at, the payment's reference in its metadata);
// - an invoice for a period (signup, renewal) tops the balance up to the plan's included
//   credits, one ledger row keyed by the invoice number (so paying twice, or two payments at
//   once, never credit twice); a prorated upgrade invoice grants the credit difference its
//   metadata names, keyed the same way;
// - the subscription (pending_payment or past_due) and the account (pending_payment or
//   suspended) become active once no overdue invoice of the account is left.
// Voiding leaves the account's status as it is, except that an account or subscription held
// back only by this overdue invoice is released as a payment would release it.
import type { Knex } from 'knex';
import { DomainRefusal, ValidationError } from '../errors.js';
import { withTransaction } from '../db/transaction.js';
import { setStatusReason } from './account-status.js';
import { findKeyedEntry, grantCredits, topUpCredits, type CreditResult } from './credits.js';
import type { PayInvoiceInput, VoidInvoiceInput } from './inputs.js';
import { requireTargetSchema } from './target-schema.js';

const INVOICES = 'igny8_invoices';

/** metadata.source of an invoice for the difference of an upgrade within a period. */
export const PRORATION_SOURCE = 'proration';

/**
 * metadata.source of the invoices igny8 issues for a whole period: a signup's, a repaired
 * signup's, a renewal's, a free account's first paid plan's. Paid, each tops the credits up.
 */
export const PERIOD_INVOICE_SOURCES = ['registration', 'repair', 'renewal', 'plan-change'] as const;

export interface InvoiceRow {
  id: number;
  account_id: number;
  subscription_id: number | null;
  invoice_number: string;
  status: string;
  total: string;
  currency: string;
  due_date: string;
  paid_at: Date | null;
  metadata: Record<string, unknown>;
}

export interface InvoiceOutcome {
  invoice: { id: number; number: string; status: string; total: string; currency: string; paidAt: Date | null; reference: string | null };
  account: { id: number; slug: string; status: string; previousStatus: string };
  subscription: { id: number; status: string; previousStatus: string } | null;
  /** The ledger row the payment wrote (or, replayed, the one it wrote before). */
  credits?: CreditResult;
  /** Nothing was changed: the invoice was in this state already. */
  replayed: boolean;
}

async function lockInvoice(trx: Knex.Transaction, number: string): Promise<InvoiceRow> {
  const [invoice] = (await trx(INVOICES).where('invoice_number', number).forUpdate().select('*')) as InvoiceRow[];
  if (!invoice) throw new ValidationError('number', `no invoice "${number}"`);
  if (typeof invoice.metadata === 'string') invoice.metadata = JSON.parse(invoice.metadata) as Record<string, unknown>;
  return invoice;
}

async function lockAccount(trx: Knex.Transaction, id: number) {
  const [account] = (await trx('igny8_accounts').where('id', id).forUpdate().select('id', 'slug', 'status', 'plan_id')) as Array<{
    id: number;
    slug: string;
    status: string;
    plan_id: number;
  }>;
  return account;
}

async function lockSubscription(trx: Knex.Transaction, id: number | null) {
  if (id === null) return undefined;
  const [subscription] = (await trx('igny8_subscriptions').where('id', id).forUpdate().select('id', 'status', 'plan_id')) as Array<{
    id: number;
    status: string;
    plan_id: number;
  }>;
  return subscription;
}

/** True while the account has an overdue invoice: what keeps it suspended or past due. */
async function hasOverdueInvoice(trx: Knex.Transaction, accountId: number): Promise<boolean> {
  const [row] = (await trx(INVOICES).where({ account_id: accountId, status: 'overdue' }).limit(1).select('id')) as unknown[];
  return row !== undefined;
}

/**
 * After a payment or a void: releases what no overdue invoice holds back any more. A payment
 * also activates a pending_payment subscription and account (a signup being paid).
 */
async function release(
  trx: Knex.Transaction,
  account: { id: number; status: string },
  subscription: { id: number; status: string } | undefined,
  paying: boolean,
): Promise<{ account: string; subscription: string | undefined }> {
  if (await hasOverdueInvoice(trx, account.id)) return { account: account.status, subscription: subscription?.status };
  const accountFrom = paying ? ['pending_payment', 'suspended'] : ['suspended'];
  const subscriptionFrom = paying ? ['pending_payment', 'past_due'] : ['past_due'];
  let accountStatus = account.status;
  if (accountFrom.includes(account.status)) {
    await trx('igny8_accounts').where('id', account.id).update({ status: 'active', updated_at: trx.fn.now() });
    accountStatus = 'active';
  }
  let subscriptionStatus = subscription?.status;
  if (subscription && subscriptionFrom.includes(subscription.status)) {
    await trx('igny8_subscriptions').where('id', subscription.id).update({ status: 'active', updated_at: trx.fn.now() });
    subscriptionStatus = 'active';
  }
  return { account: accountStatus, subscription: subscriptionStatus };
}

/** The plan an invoice pays for: the one its metadata names, else the subscription's, else the account's. */
async function planOf(trx: Knex.Transaction, invoice: InvoiceRow, fallbackPlanId: number) {
  const slug = typeof invoice.metadata.plan === 'string' ? invoice.metadata.plan : undefined;
  const query = trx('igny8_plans').select('id', 'slug', 'name', 'included_credits');
  const [plan] = (await (slug ? query.where('slug', slug) : query.where('id', fallbackPlanId))) as Array<{
    id: number;
    slug: string;
    name: string;
    included_credits: number;
  }>;
  if (plan) return plan;
  const [fallback] = (await trx('igny8_plans').where('id', fallbackPlanId).select('id', 'slug', 'name', 'included_credits')) as Array<{
    id: number;
    slug: string;
    name: string;
    included_credits: number;
  }>;
  return fallback;
}

/**
 * The credits a paid invoice gives, keyed by its number: the credit difference of a prorated
 * upgrade, or for any other invoice (a period's) the top-up to its plan's included credits.
 */
export async function creditPaidInvoice(
  trx: Knex.Transaction,
  invoice: InvoiceRow,
  planId: number,
): Promise<CreditResult | undefined> {
  const metadata = { invoice: invoice.invoice_number, source: invoice.metadata.source ?? null };
  if (invoice.metadata.source === PRORATION_SOURCE) {
    const difference = Number(invoice.metadata.credit_difference ?? 0);
    if (!Number.isSafeInteger(difference) || difference <= 0) return undefined;
    return grantCredits(trx, {
      accountId: invoice.account_id,
      amount: difference,
      type: 'subscription',
      reason: `plan upgrade credits: invoice ${invoice.invoice_number}`,
      metadata,
      idempotencyKey: invoice.invoice_number,
    });
  }
  const plan = await planOf(trx, invoice, planId);
  return topUpCredits(trx, {
    accountId: invoice.account_id,
    target: plan.included_credits,
    reason: `period credits: ${plan.name}, invoice ${invoice.invoice_number}`,
    metadata: { ...metadata, plan: plan.slug },
    idempotencyKey: invoice.invoice_number,
  });
}

function outcome(
  invoice: InvoiceRow,
  account: { id: number; slug: string; status: string },
  accountStatus: string,
  subscription: { id: number; status: string } | undefined,
  subscriptionStatus: string | undefined,
  replayed: boolean,
  credits?: CreditResult,
): InvoiceOutcome {
  return {
    invoice: {
      id: invoice.id,
      number: invoice.invoice_number,
      status: invoice.status,
      total: invoice.total,
      currency: invoice.currency,
      paidAt: invoice.paid_at,
      reference: typeof invoice.metadata.payment_reference === 'string' ? invoice.metadata.payment_reference : null,
    },
    account: { id: account.id, slug: account.slug, status: accountStatus, previousStatus: account.status },
    subscription: subscription
      ? { id: subscription.id, status: subscriptionStatus ?? subscription.status, previousStatus: subscription.status }
      : null,
    credits,
    replayed,
  };
}

/** Marks an invoice paid and does what its payment means (see the top of this file). */
export async function payInvoice(knex: Knex, input: PayInvoiceInput): Promise<InvoiceOutcome> {
  await requireTargetSchema(knex);
  return withTransaction(knex, async (trx) => {
    await setStatusReason(trx, `invoice pay ${input.number}`);
    const invoice = await lockInvoice(trx, input.number);
    const account = await lockAccount(trx, invoice.account_id);
    const subscription = await lockSubscription(trx, invoice.subscription_id);
    if (invoice.status === 'paid') {
      const reference = invoice.metadata.payment_reference;
      if (input.reference !== undefined && reference !== input.reference) {
        throw new DomainRefusal(
          `invoice ${invoice.invoice_number} is paid already${typeof reference === 'string' ? ` (reference "${reference}")` : ''}: a second payment is not recorded`,
          { code: 'invoice-paid' },
        );
      }
      const credits = await findKeyedEntry(trx, invoice.account_id, invoice.invoice_number);
      return outcome(invoice, account, account.status, subscription, subscription?.status, true, credits);
    }
    if (invoice.status === 'void') {
      throw new DomainRefusal(`invoice ${invoice.invoice_number} is void: it cannot be paid`, { code: 'invoice-void' });
    }
    if (invoice.status === 'draft') {
      throw new DomainRefusal(`invoice ${invoice.invoice_number} is a draft: it is not due yet`, { code: 'invoice-draft' });
    }
    const metadata = input.reference === undefined ? {} : { payment_reference: input.reference };
    const [paid] = (await trx(INVOICES)
      .where('id', invoice.id)
      .update({
        status: 'paid',
        paid_at: input.paidAt ?? trx.fn.now(),
        metadata: trx.raw(`metadata || ?::jsonb`, [JSON.stringify(metadata)]),
      })
      .returning('*')) as InvoiceRow[];
    if (typeof paid.metadata === 'string') paid.metadata = JSON.parse(paid.metadata) as Record<string, unknown>;
    const credits = await creditPaidInvoice(trx, paid, subscription?.plan_id ?? account.plan_id);
    const released = await release(trx, account, subscription, true);
    return outcome(paid, account, released.account, subscription, released.subscription, false, credits);
  });
}

/** Voids an invoice that is not paid: nobody owes it any more. */
export async function voidInvoice(knex: Knex, input: VoidInvoiceInput): Promise<InvoiceOutcome> {
  await requireTargetSchema(knex);
  return withTransaction(knex, async (trx) => {
    await setStatusReason(trx, `invoice void ${input.number}`);
    const invoice = await lockInvoice(trx, input.number);
    const account = await lockAccount(trx, invoice.account_id);
    const subscription = await lockSubscription(trx, invoice.subscription_id);
    if (invoice.status === 'void') return outcome(invoice, account, account.status, subscription, subscription?.status, true);
    if (invoice.status === 'paid') {
      throw new DomainRefusal(`invoice ${invoice.invoice_number} is paid: a paid invoice cannot be voided (refund it instead)`, {
        code: 'invoice-paid',
      });
    }
    const [voided] = (await trx(INVOICES)
      .where('id', invoice.id)
      .update({ status: 'void', metadata: trx.raw(`metadata || jsonb_build_object('voided_at', now())`) })
      .returning('*')) as InvoiceRow[];
    if (typeof voided.metadata === 'string') voided.metadata = JSON.parse(voided.metadata) as Record<string, unknown>;
    const released = await release(trx, account, subscription, false);
    return outcome(voided, account, released.account, subscription, released.subscription, false);
  });
}
