// Invoices. Numbers come from one sequence (igny8_invoice_number_seq), so two concurrent
// registrations can never draw the same one; the unique constraint on invoice_number stays
// the judge, and a collision with a number written some other way is retried in a savepoint.
// seed #6: every invoice carries a billing snapshot copied from the account at creation time,
// as the invoice-billing-snapshot-missing rule defines it.
import type { Knex } from 'knex';
import { billingSnapshotSql, TARGET_NAMES } from '../rules/invoice-billing-snapshot-missing.js';
import { isUniqueViolationOn } from './slugs.js';

/** The one name of the invoice number sequence: its migration, registration and the repairs draw from it. */
export const INVOICE_NUMBER_SEQUENCE = 'igny8_invoice_number_seq';

/** `INV-00000042`: the prefix and the sequence value, zero-padded to 8 digits. */
export function formatInvoiceNumber(value: number): string {
  return `INV-${String(value).padStart(8, '0')}`;
}

export interface BillingSnapshot {
  email: string | null;
  name: string;
  address_line1: string | null;
  city: string | null;
  country: string | null;
  backfilled?: true;
}

/**
 * The account's billing details as they are now: what an invoice keeps (seed #6). One
 * definition with the audit's invoice-billing-snapshot-missing rule: an empty billing email
 * means the owner's.
 */
export async function billingSnapshot(trx: Knex.Transaction, accountId: number): Promise<BillingSnapshot> {
  const result = await trx.raw(`select ${billingSnapshotSql(TARGET_NAMES, '?::bigint')} as snapshot`, [accountId]);
  const snapshot = (result.rows as Array<{ snapshot: BillingSnapshot | null }>)[0].snapshot;
  if (!snapshot) throw new Error(`no account ${accountId} to take a billing snapshot of`);
  // The fields in the order they are read and printed (jsonb keeps its own order).
  return {
    email: snapshot.email,
    name: snapshot.name,
    address_line1: snapshot.address_line1,
    city: snapshot.city,
    country: snapshot.country,
  };
}

export interface InvoicePlan {
  slug: string;
  name: string;
  price: string;
  billing_cycle: string;
}

export interface NewPlanInvoice {
  accountId: number;
  subscriptionId: number;
  plan: InvoicePlan;
  periodStart: Date;
  periodEnd: Date;
  /** Why the invoice exists (metadata.source), e.g. 'registration'. */
  source: string;
  /** Days until due; 7 by default. */
  dueInDays?: number;
  /** The amount, when it is not one whole cycle of the plan (a prorated upgrade). */
  amount?: string;
  /** The line item's description, when it is not "<plan> plan, <cycle>". */
  lineDescription?: string;
  /** More metadata (beside source and plan). */
  metadata?: Record<string, unknown>;
}

export interface InvoiceSummary {
  id: number;
  number: string;
  status: string;
  subtotal: string;
  tax: string;
  total: string;
  currency: string;
  invoiceDate: string;
  dueDate: string;
  billingSnapshot: BillingSnapshot;
}

const MAX_NUMBER_ATTEMPTS = 5;

/** A pending invoice for one billing cycle of `plan`, with one line item and a snapshot. */
export async function createInvoice(trx: Knex.Transaction, spec: NewPlanInvoice): Promise<InvoiceSummary> {
  const snapshot = await billingSnapshot(trx, spec.accountId);
  const price = spec.amount ?? spec.plan.price;
  const lineItems = [
    {
      description: spec.lineDescription ?? `${spec.plan.name} plan, ${spec.plan.billing_cycle}`,
      plan: spec.plan.slug,
      quantity: 1,
      unit_price: price,
      amount: price,
      period_start: spec.periodStart.toISOString(),
      period_end: spec.periodEnd.toISOString(),
    },
  ];
  for (let attempt = 1; ; attempt++) {
    const number = await nextInvoiceNumber(trx);
    try {
      const [row] = (await trx.transaction((savepoint) =>
        savepoint('igny8_invoices')
          .insert({
            account_id: spec.accountId,
            subscription_id: spec.subscriptionId,
            invoice_number: number,
            status: 'pending',
            subtotal: price,
            tax: '0.00',
            total: price,
            currency: 'USD',
            invoice_date: savepoint.raw('current_date'),
            due_date: savepoint.raw('current_date + ?::int', [spec.dueInDays ?? 7]),
            line_items: JSON.stringify(lineItems),
            metadata: JSON.stringify({ source: spec.source, plan: spec.plan.slug, ...spec.metadata }),
            billing_snapshot: JSON.stringify(snapshot),
          })
          .returning(['id', 'invoice_number', 'status', 'subtotal', 'tax', 'total', 'currency', 'invoice_date', 'due_date']),
      )) as Array<Record<string, unknown>>;
      return {
        id: row.id as number,
        number: row.invoice_number as string,
        status: row.status as string,
        subtotal: row.subtotal as string,
        tax: row.tax as string,
        total: row.total as string,
        currency: row.currency as string,
        invoiceDate: row.invoice_date as string,
        dueDate: row.due_date as string,
        billingSnapshot: snapshot,
      };
    } catch (error) {
      // A number written outside the sequence (imported legacy data): draw the next one.
      if (!isUniqueViolationOn(error, 'invoice_number') || attempt >= MAX_NUMBER_ATTEMPTS) throw error;
    }
  }
}

export async function nextInvoiceNumber(trx: Knex.Transaction): Promise<string> {
  const result = await trx.raw(`select nextval(?::regclass) as value`, [INVOICE_NUMBER_SEQUENCE]);
  return formatInvoiceNumber(Number((result.rows as Array<{ value: number | string }>)[0].value));
}
