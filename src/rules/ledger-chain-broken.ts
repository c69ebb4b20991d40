// seed #11: each ledger row's balance_after must be the previous row's balance_after plus
// its amount (per account, in id order, starting from 0). History is immutable: no repair
// (credit-balance-drift reconciles the balance with a new row).
import { LEDGER, ledgerWalk } from './ledger.js';
import { missingTables, scopeTo } from './sql.js';
import type { Rule } from './types.js';

export const ledgerChainBroken: Rule = {
  id: 'ledger-chain-broken',
  severity: 'error',
  scope: 'account',
  walksLedger: true,
  title: 'ledger rows whose balance_after is not the previous balance_after plus the amount',
  remedy: 'no repair: ledger history is immutable; a person reviews it (credit-balance-drift reconciles the balance)',
  verdict(shape) {
    return missingTables(shape, LEDGER, shape.schema.accountsTable);
  },
  findings(shape) {
    const { schema } = shape;
    const accountColumn = schema.accountColumn(LEDGER);
    const walk = ledgerWalk(shape, accountColumn, 'walk-columns');
    // The walk sorts only what the chain needs (the type is looked up for the rows found), so
    // the sort of the whole ledger stays narrow.
    return {
      sql: `select 'ledger:' || x.id as key, null::bigint as target,
                   (select a.slug from ${schema.accountsTable} a where a.id = x.account_id) as account, x.id as sort,
                   (select t.transaction_type from ${LEDGER} t where t.id = x.id) as type, x.previous, x.amount, x.balance_after
              from (select id, ${accountColumn} as account_id, amount, balance_after, ${walk.previous('balance_after')} as previous
                      from ${LEDGER} where true${scopeTo(shape, accountColumn)}
                    window w as (${walk.window})) x
             where x.balance_after <> x.previous + x.amount`,
    };
  },
};
