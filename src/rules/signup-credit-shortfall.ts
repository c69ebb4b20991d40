// seed #5: free signups were granted the plan row's 100 credits instead of the catalog's
// 1,000. An account's signup credits are its first grant plus any shortfall correction; a
// correction is this repair's ledger row, recognised by its marker (SHORTFALL_MARKER).
//
// The first grant's amount is taken by an aggregate (`ledgerRowValue`): in the same pass as the
// corrections, or, where the walk index exists, from the index (`grants`); the repair reads the
// shortfall from this rule's finding SQL.
//
// Repair: each account gets the difference once, as the credit service grants: the balance
// and the ledger row (with balance_after) together, marked so that it is recognised on every
// shape (metadata.repair and metadata.idempotency_key, and the idempotency_key column where
// it exists), which makes a second run a no-op.
import { catalogPlan } from '../domain/catalog.js';
import { tally } from '../repairs/log.js';
import type { SchemaInfo } from '../schema/inspect.js';
import { insertLedgerRows, LEDGER, ledgerAccountKey, ledgerGroupSettings, ledgerRowValue, raiseBalances, sequentialAccountKey } from './ledger.js';
import { missingTables, scopeTo, withinIds } from './sql.js';
import type { FindingSql, Rule, Shape, TableCounts, TargetKey } from './types.js';

/** The marker a shortfall correction carries: metadata.repair, and its idempotency key. */
export const SHORTFALL_MARKER = 'signup-credit-shortfall';

/** The idempotency key of an account's one shortfall correction. */
export function shortfallIdempotencyKey(accountId: number): string {
  return `${SHORTFALL_MARKER}:${accountId}`;
}

/** The same key in SQL, for the account id `accountId` (an SQL expression). */
function idempotencyKeySql(accountId: string): string {
  return `'${SHORTFALL_MARKER}:' || ${accountId}`;
}

/**
 * SQL true for a ledger row that is a shortfall correction (never null), on every shape: the
 * marker in metadata, or the idempotency key in metadata or in its own column.
 *
 * It runs on every ledger row, twice: each alternative is guarded by a cheap test that is
 * false for ordinary rows, so they never build the key (bench/RESULTS.md, "Where targets are
 * missed, and why": signup-credit-shortfall). `\\?|` is the ?| operator, escaped from knex's
 * placeholders.
 */
export function shortfallCorrectionSql(schema: SchemaInfo): string {
  const key = idempotencyKeySql(schema.accountColumn(LEDGER));
  const inMetadata = `(coalesce(metadata \\?| array['repair', 'idempotency_key'], false)
                       and coalesce(metadata->>'repair' = '${SHORTFALL_MARKER}' or metadata->>'idempotency_key' = ${key}, false))`;
  const inColumn = schema.hasColumn(LEDGER, 'idempotency_key')
    ? ` or (coalesce(idempotency_key like '${SHORTFALL_MARKER}:%', false) and idempotency_key = ${key})`
    : '';
  return `(${inMetadata}${inColumn})`;
}

/** The free plan's credits in the catalog: what a free signup is owed. */
function catalogFreeCredits(): number {
  return catalogPlan('free')?.included_credits ?? 0;
}

/** The accounts on the free plan, as `<accounts> <a> join igny8_plans <p>`: the only ones this rule can find. */
function freeAccounts(shape: Shape, a: string, p: string): string {
  return `${shape.schema.accountsTable} ${a} join igny8_plans ${p} on ${p}.id = ${a}.plan_id and ${p}.slug = 'free'`;
}

/**
 * Per account of the ledger: `first`, the aggregate of its first grant (read with
 * ledgerRowValue's `read`), and `corrections`, the sum of its shortfall corrections.
 */
function grants(shape: Shape, within: readonly TargetKey[] | undefined): FindingSql {
  const accountColumn = shape.schema.accountColumn(LEDGER);
  const correction = shortfallCorrectionSql(shape.schema);
  // A repair batch reads only its accounts' ledger rows, through the account index.
  const inLedger = withinIds(accountColumn, within);
  const rows = { sql: `${scopeTo(shape, accountColumn)}${inLedger.sql}`, bindings: inLedger.bindings };
  // Rows that need their heap read (for metadata), where the rows are scoped (--account,
  // --incremental, a repair batch): through the account index, a random page per row, so only
  // the free accounts' rows are read, the others cannot be findings. Unscoped, the ledger is read
  // once, sequentially, and a semi-join over all of it would cost more than it saves.
  const inFree = withinIds('fa.id', within);
  const freeRows =
    rows.sql === ''
      ? rows
      : {
          // As an array, so that the index is probed for these accounts alone.
          sql: ` and ${accountColumn} = any(array(select fa.id from ${freeAccounts(shape, 'fa', 'fp')} where true${scopeTo(shape, 'fa.id')}${inFree.sql}))`,
          bindings: inFree.bindings,
        };
  const first = ledgerRowValue(shape, 'min', 'amount');
  if (!shape.ledgerWalkIndex) {
    // One pass over the rows: the first grant and the corrections together (in account order
    // where the heap lies so). Every account's rows: restricting them to free accounts first
    // costs more (a semi-join over the whole ledger) than grouping them all.
    const key = ledgerAccountKey(shape, accountColumn, 'rows');
    return {
      sql: `select ${key} as account_id,
                   ${first.aggregate} filter (where amount > 0 and not ${correction}) as first,
                   sum(amount) filter (where ${correction}) as corrections
              from ${LEDGER} where true${freeRows.sql}
             group by ${key}`,
      bindings: freeRows.bindings,
    };
  }
  // With the walk index, the first positive row of each account comes from the index alone, in
  // account order; the corrections (rare) from one sequential read of the rows, the only read
  // that needs their metadata, grouped by an expression so that no index walk is chosen for it.
  // Where an account's first positive row is itself a correction, its first grant is looked up
  // among that account's rows. Faster than the one grouped pass on either heap order
  // (bench/RESULTS.md, "The ledger's walk index").
  const sequential = sequentialAccountKey(accountColumn);
  return {
    sql: `select w.account_id,
                 case when ${first.readId('w.first')} = any(c.ids)
                      then (select ${first.aggregate} from ${LEDGER}
                             where ${accountColumn} = w.account_id and amount > 0 and not ${correction})
                      else w.first end as first,
                 c.corrections
            from (select ${accountColumn} as account_id, ${first.aggregate} filter (where amount > 0) as first
                    from ${LEDGER} where true${rows.sql}
                   group by ${accountColumn}) w
            left join (select ${sequential} as account_id, sum(amount) as corrections, array_agg(id) as ids
                         from ${LEDGER} where ${correction}${freeRows.sql}
                        group by ${sequential}) c on c.account_id = w.account_id`,
    bindings: [...rows.bindings, ...freeRows.bindings],
    settings: ledgerGroupSettings(shape),
  };
}

function findings(shape: Shape, within?: readonly TargetKey[]): FindingSql {
  const { schema } = shape;
  const accountColumn = schema.accountColumn(LEDGER);
  const expected = catalogFreeCredits();
  const inAccounts = withinIds('a.id', within);
  // A correction `repair undo` took back keeps its key: the key cannot grant again.
  const keyUsed = schema.hasColumn(LEDGER, 'idempotency_key')
    ? `exists (select 1 from ${LEDGER} k where k.${accountColumn} = a.id and k.idempotency_key = ${idempotencyKeySql('a.id')})`
    : 'false';
  const first = ledgerRowValue(shape, 'min', 'amount');
  const l = grants(shape, within);
  return {
    sql: `select 'account:' || a.id as key, a.id as target, a.slug as account, a.id as sort,
                 coalesce(${first.read('l.first')}, 0) as first_grant, coalesce(l.corrections, 0) as corrections,
                 ${expected} as catalog_credits, ${keyUsed} as _correction_undone
            from ${freeAccounts(shape, 'a', 'p')}
            left join (${l.sql}) l on l.account_id = a.id
           where coalesce(${first.read('l.first')}, 0) + coalesce(l.corrections, 0) < ${expected}${scopeTo(shape, 'a.id')}${inAccounts.sql}`,
    bindings: [...(l.bindings ?? []), ...inAccounts.bindings],
    settings: l.settings,
  };
}

/** What a finding row is short of, as SQL over the finding row `f`. */
const MISSING = 'f.catalog_credits - f.first_grant - f.corrections';

export const signupCreditShortfall: Rule = {
  id: 'signup-credit-shortfall',
  severity: 'warning',
  scope: 'account',
  walksLedger: true,
  title: "free accounts whose signup credits are below the catalog's free credits",
  remedy: 'igny8 repair signup-credit-shortfall: grant the difference once, with an idempotency key',
  verdict(shape) {
    return missingTables(shape, LEDGER, 'igny8_plans', shape.schema.accountsTable);
  },
  findings,
  repair: {
    action: 'grant the missing signup credits once: balance and ledger row together, with an idempotency key',
    table: (schema) => schema.accountsTable,
    fixable: () => ({
      where: 'not f._correction_undone',
      leftOver: 'accounts whose correction was undone (repair undo): its key is used; grant-credits grants it again if still wanted',
    }),
    change: (row) => `grant +${Number(row.catalog_credits) - Number(row.first_grant) - Number(row.corrections)}`,
    async apply(ctx, keys) {
      const accounts = ctx.shape.schema.accountsTable;
      const counts: TableCounts = {};
      // The balance first; the finding reads only the ledger, so it still names these
      // accounts for the ledger rows, whose balance_after is the balance just written.
      const shortfall = findings(ctx.shape, keys);
      tally(
        counts,
        accounts,
        await raiseBalances(ctx, `select f.target as id, ${MISSING} as missing from (${shortfall.sql}) f`, shortfall.bindings),
      );
      tally(
        counts,
        LEDGER,
        await insertLedgerRows(
          ctx,
          `select a.id as account_id, 'adjustment' as transaction_type, ${MISSING} as amount, a.credits as balance_after,
                  'signup credits shortfall correction' as description,
                  jsonb_build_object('repair', '${SHORTFALL_MARKER}', 'idempotency_key', ${idempotencyKeySql('a.id')},
                                     'signup_credits', f.first_grant + f.corrections, 'catalog_credits', f.catalog_credits) as metadata,
                  ${idempotencyKeySql('a.id')} as idempotency_key
             from (${shortfall.sql}) f join ${accounts} a on a.id = f.target`,
          shortfall.bindings,
        ),
      );
      return counts;
    },
  },
};
