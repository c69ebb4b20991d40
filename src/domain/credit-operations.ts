// The credit service behind `igny8 grant-credits`: the account found by slug, the change
// made through grantCredits/debitCredits, all in one transaction.
import type { Knex } from 'knex';
import { withTransaction } from '../db/transaction.js';
import { findAccountBySlug, type AccountRef } from './accounts.js';
import { debitCredits, grantCredits, type CreditResult, type CreditTransactionType } from './credits.js';
import { creditInputSchema, validateInput } from './inputs.js';
import { requireTargetSchema } from './target-schema.js';

export interface AccountCreditInput {
  /** The account's slug. */
  account: string;
  amount: number;
  reason: string;
  idempotencyKey?: string;
  type?: CreditTransactionType;
}

export interface AccountCreditResult extends CreditResult {
  account: AccountRef;
}

export async function grantAccountCredits(knex: Knex, raw: AccountCreditInput): Promise<AccountCreditResult> {
  const input = validateInput(creditInputSchema, raw);
  await requireTargetSchema(knex);
  return withTransaction(knex, async (trx) => {
    const account = await findAccountBySlug(trx, input.account);
    const result = await grantCredits(trx, { ...input, accountId: account.id });
    return { ...result, account };
  });
}

export async function debitAccountCredits(knex: Knex, raw: AccountCreditInput): Promise<AccountCreditResult> {
  const input = validateInput(creditInputSchema, raw);
  await requireTargetSchema(knex);
  return withTransaction(knex, async (trx) => {
    const account = await findAccountBySlug(trx, input.account);
    const result = await debitCredits(trx, { ...input, accountId: account.id });
    return { ...result, account };
  });
}
