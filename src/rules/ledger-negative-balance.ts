// The ledger cannot go below zero: a running balance under zero is credit that was never
// there. New rows are refused by a CHECK (balance_after >= 0) that migration 0031 adds NOT
// VALID; rows written before it are found here. No repair: the ledger's history is immutable
// (corrections are new rows, which credit-balance-drift's repair writes when a balance drifts).
// Once none remain, 0031 (or a rerun of `igny8 migrate`) validates the constraint and the
// schema enforces it.
import { missingTables, scopeTo } from './sql.js';
import type { Rule } from './types.js';

const LEDGER = 'igny8_credit_transactions';
export const LEDGER_NON_NEGATIVE = 'igny8_credit_transactions_balance_after_non_negative';

export const ledgerNegativeBalance: Rule = {
  id: 'ledger-negative-balance',
  severity: 'warning',
  scope: 'account',
  title: 'ledger rows whose running balance is below zero',
  remedy: 'no repair: ledger history is immutable; a person reviews these rows (new ones are refused by a constraint)',
  verdict(shape) {
    const missing = missingTables(shape, LEDGER, shape.schema.accountsTable);
    if (missing) return missing;
    if (shape.constraints.checkConstraint(LEDGER, LEDGER_NON_NEGATIVE)) return { kind: 'enforced', by: `check ${LEDGER_NON_NEGATIVE}` };
    return undefined;
  },
  findings(shape) {
    const accountColumn = shape.schema.accountColumn(LEDGER);
    return {
      sql: `select 'ledger:' || l.id as key, null::bigint as target, a.slug as account, l.id as sort,
                   l.transaction_type as type, l.amount, l.balance_after, cast(l.created_at as date)::text as day
              from ${LEDGER} l join ${shape.schema.accountsTable} a on a.id = l.${accountColumn}
             where l.balance_after < 0${scopeTo(shape, `l.${accountColumn}`)}`,
    };
  },
};
