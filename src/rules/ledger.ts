// seed #11: the credit ledger, as repairs write it. History is immutable, so a repair that
// corrects a balance or grants credits adds rows, written as the credit service writes
// them (the account, type, signed amount, balance_after, description, metadata and, where
// the shape has the column, the idempotency key), each logged in the repair log.
import { insertLogged } from '../repairs/log.js';
import type { RepairContext, Shape } from './types.js';

export const LEDGER = 'igny8_credit_transactions';

/**
 * The account of a ledger row as a grouping or partition key for a walk over the WHOLE ledger.
 * A live ledger is in arrival order, every account's rows scattered over the heap, and the
 * planner still walks it through the account index: one random heap read per row
 * (bench/RESULTS.md, "Production-shaped data"). Written as an expression, no index can supply
 * the order, and the ledger is read once, sequentially, then hashed or sorted. Only where the
 * statistics say the heap follows the account column is the walk sequential and cheaper than
 * the sort; there the column is left to the planner. Row filters (a repair batch, --account)
 * always use the index: they name the column itself.
 */
export function ledgerAccountKey(shape: Shape, column: string): string {
  return shape.ledgerInAccountOrder ? column : `(${column} + 0)`;
}

/**
 * Inserts one ledger row per row of `source`, logging each, and returns how many. `source`
 * selects the columns `account_id`, `transaction_type`, `amount`, `balance_after`,
 * `description`, `metadata` (jsonb) and `idempotency_key` (null for none). The key goes into
 * its column where the column exists; on the legacy shape a repair that needs it keeps it in
 * metadata as well, which migration 0017 carries into the column.
 */
export function insertLedgerRows(ctx: RepairContext, source: string, bindings: readonly unknown[] = []): Promise<number> {
  const { schema } = ctx.shape;
  const key = schema.hasColumn(LEDGER, 'idempotency_key');
  return insertLogged(
    ctx,
    LEDGER,
    `${schema.accountColumn(LEDGER)}, transaction_type, amount, balance_after, description, metadata${key ? ', idempotency_key' : ''}`,
    `select e.account_id, e.transaction_type, e.amount, e.balance_after, left(e.description, 255), e.metadata${key ? ', e.idempotency_key' : ''}
       from (${source}) e`,
    bindings,
  );
}
