// Account statuses and their history. A status changes only by an UPDATE of
// igny8_accounts.status; the trigger of migration 0033 records each change, and a command
// names why with setStatusReason() before it writes.
import type { Knex } from 'knex';

export const STATUS_HISTORY_TABLE = 'igny8_account_status_history';

export const ACCOUNT_STATUSES = ['trial', 'active', 'pending_payment', 'suspended', 'cancelled'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/**
 * Why the status changes the rest of this transaction makes happen (`invoice pay
 * INV-00000042`): the history trigger records it. Transaction-local, so it never outlives
 * the transaction that set it.
 */
export async function setStatusReason(trx: Knex.Transaction, reason: string): Promise<void> {
  await trx.raw(`select set_config('igny8.status_reason', ?, true)`, [reason.slice(0, 500)]);
}

export interface StatusChange {
  fromStatus: string | null;
  toStatus: string;
  reason: string | null;
  changedAt: Date;
}

/** The account's status changes, newest first (none before the history existed). */
export async function readStatusHistory(knex: Knex | Knex.Transaction, accountId: number, limit = 20): Promise<StatusChange[]> {
  const present = await knex.raw(`select to_regclass(?) is not null as present`, [STATUS_HISTORY_TABLE]);
  if (present.rows[0].present !== true) return [];
  const rows = (await knex(STATUS_HISTORY_TABLE)
    .where('account_id', accountId)
    .orderBy('id', 'desc')
    .limit(limit)
    .select('from_status', 'to_status', 'reason', 'changed_at')) as Array<Record<string, unknown>>;
  return rows.map((row) => ({
    fromStatus: row.from_status as string | null,
    toStatus: row.to_status as string,
    reason: row.reason as string | null,
    changedAt: row.changed_at as Date,
  }));
}
