// seed #11: the balance changed without a ledger row (or the other way round). An account's
// balance must equal the sum of its ledger and the last row's balance_after.
//
// "The last row" is the one with the highest id: ledger order is id order (the credit
// service writes rows in the order the balance moves; created_at can tie). It is taken by an
// aggregate in the same pass as the sum, with no sort per account (`ledgerRowValue`); the
// repair reads the drift from this rule's finding SQL.
//
// Repair: history is immutable, so each drifted account gets one new `adjustment` row that
// makes the ledger add up to the balance, with balance_after = the balance; the balance is
// not changed.
import { insertLedgerRows, LEDGER, ledgerAccountKey, ledgerGroupSettings, ledgerRowValue } from './ledger.js';
import { missingTables, scopeTo, withinIds } from './sql.js';
import type { FindingSql, Rule, Shape, TargetKey } from './types.js';

function findings(shape: Shape, within?: readonly TargetKey[]): FindingSql {
  const { schema } = shape;
  const accountColumn = schema.accountColumn(LEDGER);
  // A repair batch reads only its accounts' ledger rows, through the account index.
  const inLedger = withinIds(accountColumn, within);
  const inAccounts = withinIds('a.id', within);
  const last = ledgerRowValue(shape, 'max', 'balance_after');
  return {
    sql: `select 'account:' || a.id as key, a.id as target, a.slug as account, a.id as sort,
                 a.credits, coalesce(l.total, 0) as ledger_sum, ${last.read('l.last')} as last_balance_after
            from ${schema.accountsTable} a
            -- the last row's balance_after, in the same pass as the sum
            left join (select ${ledgerAccountKey(shape, accountColumn, 'walk-columns')} as account_id, sum(amount) as total,
                              ${last.aggregate} as last
                         from ${LEDGER} where true${scopeTo(shape, accountColumn)}${inLedger.sql}
                        group by ${ledgerAccountKey(shape, accountColumn, 'walk-columns')}) l on l.account_id = a.id
           where (a.credits <> coalesce(l.total, 0) or (l.last is not null and a.credits <> ${last.read('l.last')}))
                 ${scopeTo(shape, 'a.id')}${inAccounts.sql}`,
    bindings: [...inLedger.bindings, ...inAccounts.bindings],
    settings: ledgerGroupSettings(shape),
  };
}

/** The adjustment that makes the ledger add up to the balance, signed. */
function adjustment(row: Readonly<Record<string, unknown>>): number {
  return Number(row.credits) - Number(row.ledger_sum);
}

export const creditBalanceDrift: Rule = {
  id: 'credit-balance-drift',
  severity: 'error',
  scope: 'account',
  walksLedger: true,
  title: 'credit balances differing from the ledger sum or the last balance_after',
  remedy: 'igny8 repair credit-balance-drift: an adjustment ledger row that reconciles, the balance untouched',
  verdict(shape) {
    return missingTables(shape, LEDGER, shape.schema.accountsTable);
  },
  findings,
  repair: {
    action: 'add one adjustment ledger row that makes the ledger add up to the balance (the balance is not changed)',
    table: (schema) => schema.accountsTable,
    change: (row) => `adjustment ${adjustment(row) >= 0 ? '+' : ''}${adjustment(row)}`,
    async apply(ctx, keys) {
      const drift = findings(ctx.shape, keys);
      const written = await insertLedgerRows(
        ctx,
        `select f.target as account_id, 'adjustment' as transaction_type, f.credits - f.ledger_sum as amount,
                f.credits as balance_after, 'reconciliation: the ledger did not add up to the balance' as description,
                jsonb_build_object('kind', 'balance-reconciliation', 'ledger_sum', f.ledger_sum,
                                   'last_balance_after', f.last_balance_after, 'balance', f.credits) as metadata,
                null as idempotency_key
           from (${drift.sql}) f`,
        drift.bindings,
      );
      return { [LEDGER]: written };
    },
  },
};
