// Shared by the domain tests: unique names and emails, a cheap password cost, row counts
// that show "nothing written", and the ledger chain as the audit reads it.
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { RegisterInput } from '../../src/domain/inputs.js';
import type { ScryptCost } from '../../src/domain/passwords.js';
import { payInvoice } from '../../src/domain/payments.js';
import { registerAccount } from '../../src/domain/register.js';
import { rowCounts } from './sql.js';

/** A cheap scrypt cost, only for tests whose subject is not the password. */
export const FAST_SCRYPT: ScryptCost = { log2N: 4, r: 8, p: 1 };

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}@example.com`;
}

export function uniqueName(prefix = 'Acme'): string {
  return `${prefix} ${randomBytes(4).toString('hex')}`;
}

export const DOMAIN_TABLES = [
  'igny8_accounts',
  'igny8_users',
  'igny8_subscriptions',
  'igny8_invoices',
  'igny8_account_payment_methods',
  'igny8_credit_transactions',
  'igny8_sites',
  'igny8_sectors',
  'igny8_site_user_access',
] as const;

/** The rows of every table the domain commands write. */
export function countRows(knex: Knex): Promise<Record<string, number>> {
  return rowCounts(knex, DOMAIN_TABLES);
}

/** Ledger rows whose balance_after is not the previous row's plus the amount (from 0). */
export async function brokenLedgerRows(knex: Knex, accountId: number): Promise<number> {
  const result = await knex.raw(
    `select count(*) as broken from (
       select balance_after, amount,
              coalesce(lag(balance_after) over (order by id), 0) as previous
         from igny8_credit_transactions where account_id = ?) chain
      where balance_after <> previous + amount`,
    [accountId],
  );
  return Number((result.rows as Array<{ broken: number }>)[0].broken);
}

/** Registers an account and pays a paid plan's signup invoice: an active account that may grow. */
export async function registerActive(knex: Knex, input: RegisterInput) {
  const registered = await registerAccount(knex, input, { scryptCost: FAST_SCRYPT });
  if (registered.invoice) await payInvoice(knex, { number: registered.invoice.number });
  return registered;
}
