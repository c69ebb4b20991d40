// seed #11: the balance changed without a ledger row (or the other way round). The balance
// must equal the sum of the ledger and the last row's balance_after (last by id).
import { missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const creditBalanceDrift: Check = {
  id: 'credit-balance-drift',
  severity: 'error',
  title: 'credit balances differing from the ledger sum or the last balance_after',
  remedy: 'igny8 repair credit-balance-drift: an adjustment ledger row that reconciles, the balance untouched',
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_credit_transactions', accounts);
    if (missing) return missing;
    const owner = schema.accountColumn('igny8_credit_transactions');
    return runFindings(ctx, {
      sql: `select 'account:' || a.id as key, a.slug as account, a.id as sort,
                   a.credits, coalesce(l.total, 0) as ledger_sum, l.last[2] as last_balance_after
              from ${accounts} a
              -- max(array[id, balance_after]) is the last row's balance_after, in the same pass as the sum
              left join (select ${owner} as account_id, sum(amount) as total,
                                max(array[id, cast(balance_after as bigint)]) as last
                           from igny8_credit_transactions where true${scopeTo(ctx, owner)} group by ${owner}) l on l.account_id = a.id
             where (a.credits <> coalesce(l.total, 0) or (l.last is not null and a.credits <> l.last[2]))
                   ${scopeTo(ctx, 'a.id')}`,
    });
  },
};
