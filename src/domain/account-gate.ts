// Gating by status, defined once: an account that has not paid (pending_payment), has stopped
// paying (suspended) or has left (cancelled) does not grow. create-site, create-sector,
// user creation, grants other than through payment and plan changes ask this one function
// before their first write; payment (`invoice pay`) is the way out, so the refusal names the
// invoice to pay.
import type { Knex } from 'knex';
import { DomainRefusal } from '../errors.js';

/** The statuses in which an account may not create sites, sectors or users, nor receive grants. */
export const GATED_STATUSES: readonly string[] = ['pending_payment', 'suspended', 'cancelled'];

export function isGatedStatus(status: string): boolean {
  return GATED_STATUSES.includes(status);
}

export interface GatedAccount {
  id: number;
  slug: string;
  status: string;
}

/** The invoice that would let this account out: its oldest one still open (overdue or pending). */
export async function invoiceToPay(knex: Knex | Knex.Transaction, accountId: number): Promise<{ number: string; total: string; currency: string; status: string } | undefined> {
  const [row] = (await knex('igny8_invoices')
    .where('account_id', accountId)
    .whereIn('status', ['overdue', 'pending'])
    // overdue first: it is what suspended the account
    .orderByRaw(`case status when 'overdue' then 0 else 1 end, due_date, id`)
    .limit(1)
    .select('invoice_number', 'total', 'currency', 'status')) as Array<{ invoice_number: string; total: string; currency: string; status: string }>;
  return row ? { number: row.invoice_number, total: row.total, currency: row.currency, status: row.status } : undefined;
}

/**
 * Refuses (exit 3) `what` (e.g. "new sites") for an account in a gated status, naming the
 * status and the invoice to pay. Call it after locking the account row where the status must
 * hold until commit.
 */
export async function assertAccountCanGrow(knex: Knex | Knex.Transaction, account: GatedAccount, what: string): Promise<void> {
  if (!isGatedStatus(account.status)) return;
  const invoice = await invoiceToPay(knex, account.id);
  const details: string[] = [];
  let way = '';
  if (invoice) {
    way = `: pay invoice ${invoice.number} (${invoice.total} ${invoice.currency}, ${invoice.status}) first`;
    details.push(`igny8 invoice pay ${invoice.number}`);
  } else if (account.status === 'cancelled') {
    way = ': a cancelled account takes nothing new';
  } else {
    way = ': it has no open invoice to pay';
  }
  throw new DomainRefusal(`account "${account.slug}" is ${account.status}: no ${what}${way}`, {
    code: 'account-not-active',
    details,
  });
}
