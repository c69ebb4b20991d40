// The credit service behind `igny8 grant-credits`: the account found by slug, the change
// made by grantCreditsNow/debitCreditsNow.
import type { Knex } from 'knex';
import { assertAccountCanGrow } from './account-gate.js';
import { findAccountBySlug, type AccountRef } from './accounts.js';
import { debitCreditsNow, grantCreditsNow, type CreditResult, type CreditTransactionType } from './credits.js';
import type { AccountCreditInput } from './inputs.js';
import { requireTargetSchema } from './target-schema.js';

export interface AccountCreditResult extends CreditResult {
  account: AccountRef;
}

// The account is found first (accounts are never deleted), then the change is one statement
// of its own: the account's row lock is held only while the server runs and commits it.
export async function grantAccountCredits(knex: Knex, input: AccountCreditInput): Promise<AccountCreditResult> {
  await requireTargetSchema(knex);
  const account = await findAccountBySlug(knex, input.account);
  // Grants other than through payment wait until the account is active (invoice pay grants).
  await assertAccountCanGrow(knex, account, 'grants');
  return { ...(await grantCreditsNow(knex, { ...input, accountId: account.id })), account };
}

export async function debitAccountCredits(knex: Knex, input: AccountCreditInput): Promise<AccountCreditResult> {
  await requireTargetSchema(knex);
  const account = await findAccountBySlug(knex, input.account);
  return { ...(await debitCreditsNow(knex, { ...input, accountId: account.id })), account };
}
