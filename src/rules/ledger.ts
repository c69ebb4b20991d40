// seed #11: the credit ledger, as repairs write it. History is immutable, so a repair that
// corrects a balance or grants credits adds rows, written as the credit service writes
// them (the account, type, signed amount, balance_after, description, metadata and, where
// the shape has the column, the idempotency key), each logged in the repair log.
import { insertLogged, updateLogged } from '../repairs/log.js';
import type { RepairContext, Rule, Shape } from './types.js';

export const LEDGER = 'igny8_credit_transactions';

/**
 * The columns besides the account and the id that an index must carry for a walk over the
 * ledger to be read from the index alone (shape.ledgerWalkIndex; migration 0073).
 */
export const LEDGER_WALK_COLUMNS: readonly string[] = ['amount', 'balance_after'];

/**
 * The walk index's name, as migration 0073 builds it. A DBA who builds the index by hand on a
 * legacy database under this name (ledgerWalkIndexSql) spares the rollout building it again:
 * the migration finds it built.
 */
export const LEDGER_WALK_INDEX = 'igny8_credit_transactions_account_walk_idx';

/** The statement that builds the walk index on a ledger whose account column is `accountColumn`, while writes go on. */
export function ledgerWalkIndexSql(accountColumn: string): string {
  return `create index concurrently ${LEDGER_WALK_INDEX} on ${LEDGER} (${accountColumn}, id) include (${LEDGER_WALK_COLUMNS.join(', ')})`;
}

/** From how many ledger rows a run of the rules that walk the ledger is told about the walk index. */
export const WALK_ADVICE_ROWS = 1_000_000;

/**
 * Advice for a run of `rules` (the rules that walk the ledger among them, run over every
 * account) on a ledger of at least `minRows` rows that neither lies in account order nor has
 * the walk index: each of those rules then hashes or sorts every row, two to three times
 * slower than with the index (bench/RESULTS.md). Undefined where there is nothing to advise.
 */
export function ledgerWalkAdvice(shape: Shape, rules: readonly Rule[], minRows: number = WALK_ADVICE_ROWS): string | undefined {
  if (shape.ledgerWalkIndex || shape.ledgerInAccountOrder || (shape.ledgerRows ?? 0) < minRows) return undefined;
  const walking = rules.filter((rule) => rule.walksLedger && rule.verdict(shape) === undefined).map((rule) => rule.id);
  if (walking.length === 0) return undefined;
  const rows = Math.round(shape.ledgerRows!).toLocaleString('en-US');
  const named = walking.length === 1 ? walking[0] : `${walking.slice(0, -1).join(', ')} and ${walking[walking.length - 1]}`;
  return (
    `the ledger holds about ${rows} rows in arrival order, and no index reads it by account: ${named} ` +
    `${walking.length === 1 ? 'hashes or sorts' : 'hash or sort'} all of it. This index makes ${walking.length === 1 ? 'it' : 'them'} ` +
    `two to three times faster; it is built while writes go on, and the migrations keep it (docs/audit.md, "On a large database"):\n` +
    `  ${ledgerWalkIndexSql(shape.schema.accountColumn(LEDGER))}`
  );
}

/**
 * How a walk over the WHOLE ledger in account order reads it: `reads` says whether the walk
 * needs only the walk index's columns (LEDGER_WALK_COLUMNS) or other columns of the rows too.
 */
export type LedgerReads = 'walk-columns' | 'rows';

/** Whether the ledger can be read in account order without a sort or a random heap read per row. */
function walkable(shape: Shape, reads: LedgerReads): boolean {
  return shape.ledgerInAccountOrder === true || (reads === 'walk-columns' && shape.ledgerWalkIndex === true);
}

/**
 * The account of a ledger row as a grouping or partition key for a walk over the WHOLE ledger.
 * A live ledger is in arrival order, every account's rows scattered over the heap, and the
 * planner still walks it through the account index: one random heap read per row
 * (bench/RESULTS.md, "Production-shaped data"). Written as an expression, no index can supply
 * the order, and the ledger is read once, sequentially, then hashed or sorted. Where the
 * statistics say the heap follows the account column, or where the walk index carries every
 * column the walk reads, the walk in account order is cheaper than the sort or the hash; there
 * the column is left to the planner. Row filters (a repair batch, --account) always use the
 * index: they name the column itself.
 */
export function ledgerAccountKey(shape: Shape, column: string, reads: LedgerReads): string {
  return walkable(shape, reads) ? column : sequentialAccountKey(column);
}

/** The account column as an expression no index supplies: the ledger is read sequentially. */
export function sequentialAccountKey(column: string): string {
  return `(${column} + 0)`;
}

/**
 * Planner settings for a statement that groups the whole ledger by account from the walk
 * index: in order. The planner estimates far fewer accounts than the ledger has (its
 * n_distinct is a sample's) and so prefers a hash aggregate, which on a ledger in arrival order
 * is a random memory access per row into a table of every account, three times slower
 * (bench/RESULTS.md, "The ledger's walk index").
 */
export function ledgerGroupSettings(shape: Shape): Readonly<Record<string, string>> | undefined {
  return shape.ledgerWalkIndex ? { enable_hashagg: 'off' } : undefined;
}

/**
 * The `value` (a 32-bit integer column) of the ledger row with the lowest or highest id of each
 * group, as one aggregate over the ledger and an expression that reads it from the aggregate's
 * result (`read('l.last')`). Where ids pack (shape.ledgerIdsPack) it is one bigint per row,
 * `(id << 32) | value's 32 bits`: min/max of a bigint compare and keep a machine word, where
 * min/max of `array[id, value]` build and compare an array for every row (the same rows, a
 * third less time over a 12 M-row ledger: bench/RESULTS.md). `read` gives null for no row.
 */
export function ledgerRowValue(
  shape: Shape,
  fn: 'min' | 'max',
  value: string,
): { aggregate: string; read: (result: string) => string; readId: (result: string) => string } {
  if (shape.ledgerIdsPack) {
    return {
      aggregate: `${fn}((id << 32) | (cast(${value} as bigint) & 4294967295))`,
      // A bigint cast to bit(32) keeps its rightmost 32 bits; back to integer, with their sign.
      read: (result) => `cast(cast(${result} as bit(32)) as integer)`,
      readId: (result) => `(${result} >> 32)`,
    };
  }
  return { aggregate: `${fn}(array[id, cast(${value} as bigint)])`, read: (result) => `${result}[2]`, readId: (result) => `${result}[1]` };
}

/**
 * The order of a walk over the whole ledger by account, then id, and the expression that is
 * the previous row's `column` within the same account (0 for an account's first row). Where
 * the walk can read the ledger in account order (`ledgerAccountKey`), the column itself, so the
 * planner walks the index instead of sorting. Otherwise packed into one bigint key where ids
 * pack: a sort on one bigint is about a quarter faster than on two keys over a 12 M-row ledger
 * in arrival order.
 */
export function ledgerWalk(shape: Shape, accountColumn: string, reads: LedgerReads): { window: string; previous: (column: string) => string } {
  if (shape.ledgerIdsPack && !walkable(shape, reads)) {
    return {
      window: `order by (${accountColumn} << 32) | id`,
      previous: (column) => `case when lag(${accountColumn}) over w = ${accountColumn} then lag(${column}) over w else 0 end`,
    };
  }
  return {
    window: `partition by ${ledgerAccountKey(shape, accountColumn, reads)} order by id`,
    previous: (column) => `coalesce(lag(${column}) over w, 0)`,
  };
}

/**
 * Raises account balances as a grant does, logged: `source` selects `id` (the account) and
 * `missing` (the credits added). The other half of a grant is its ledger row
 * (insertLedgerRows). Returns how many accounts changed.
 */
export function raiseBalances(ctx: RepairContext, source: string, bindings: readonly unknown[] = []): Promise<number> {
  return updateLogged(ctx, ctx.shape.schema.accountsTable, 'credits = t.credits + src.missing, updated_at = now()', source, bindings);
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
