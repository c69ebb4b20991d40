// seed #11: each ledger row's balance_after must be the previous row's balance_after plus
// its amount (per account, by id, starting from 0). History is immutable: no repair.
import { missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const ledgerChainBroken: Check = {
  id: 'ledger-chain-broken',
  severity: 'error',
  title: "ledger rows whose balance_after is not the previous balance_after plus the amount",
  remedy: 'no repair: ledger history is immutable; a person reviews it (credit-balance-drift reconciles the balance)',
  repairable: false,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_credit_transactions', accounts);
    if (missing) return missing;
    const owner = schema.accountColumn('igny8_credit_transactions');
    return runFindings(ctx, {
      sql: `select 'ledger:' || x.id as key, (select a.slug from ${accounts} a where a.id = x.account_id) as account, x.id as sort,
                   x.transaction_type as type, x.previous, x.amount, x.balance_after
              from (select id, ${owner} as account_id, transaction_type, amount, balance_after,
                           coalesce(lag(balance_after) over (partition by ${owner} order by id), 0) as previous
                      from igny8_credit_transactions where true${scopeTo(ctx, owner)}) x
             where x.balance_after <> x.previous + x.amount`,
    });
  },
};
