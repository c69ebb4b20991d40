// seed #11: the balance was changed by hand without its ledger row (or the other way round).
// History is immutable, so the fix is one new `adjustment` row per account that makes the
// ledger add up to the balance, with balance_after = the balance; the balance is untouched.
import { insertLogged } from './log.js';
import { ids, inScope, names, rows, within } from './shape.js';
import type { Repair, RepairContext } from './types.js';

const LEDGER = 'igny8_credit_transactions';

/** Each account's balance, ledger sum and last balance_after (ledger order is by id). */
function ledgerStateSql(ctx: RepairContext): string {
  const { accounts, acct } = names(ctx.schema);
  const col = acct(LEDGER);
  return `select a.id, a.slug, a.credits, coalesce(l.total, 0)::bigint as total, l.last_balance
            from ${accounts} a
            left join (select ${col} as account_id, sum(amount) as total,
                              (array_agg(balance_after order by id desc))[1] as last_balance
                         from ${LEDGER} group by ${col}) l on l.account_id = a.id
           where true${inScope(ctx, 'a.id')}`;
}

const DRIFTED = `(d.credits <> d.total or (d.last_balance is not null and d.credits <> d.last_balance))`;

export const creditBalanceDrift: Repair = {
  checkId: 'credit-balance-drift',
  action: 'add one adjustment ledger row that makes the ledger add up to the balance (the balance is not changed)',
  table: (schema) => schema.accountsTable,
  async targets(ctx, keys) {
    const filter = within('d.id', keys);
    return ids(ctx, `select d.id from (${ledgerStateSql(ctx)}) d where ${DRIFTED}${filter.sql} order by d.id`, filter.bindings);
  },
  async examples(ctx, keys) {
    const found = await rows<{ id: number; slug: string; credits: number; total: number; last_balance: number | null }>(
      ctx,
      `select d.* from (${ledgerStateSql(ctx)}) d where d.id = any(?::bigint[]) order by d.id`,
      [keys],
    );
    return found.map((row) => ({
      key: `account:${row.id}`,
      account: row.slug,
      balance: row.credits,
      ledger_sum: Number(row.total),
      last_balance_after: row.last_balance,
      change: `adjustment ${row.credits - Number(row.total) >= 0 ? '+' : ''}${row.credits - Number(row.total)}`,
    }));
  },
  async apply(ctx, keys) {
    const col = names(ctx.schema).acct(LEDGER);
    const written = await insertLogged(
      ctx,
      LEDGER,
      `${col}, transaction_type, amount, balance_after, description, metadata`,
      `select d.id, 'adjustment', d.credits - d.total, d.credits,
              'reconciliation: the ledger did not add up to the balance',
              jsonb_build_object('kind', 'balance-reconciliation', 'ledger_sum', d.total,
                                 'last_balance_after', d.last_balance, 'balance', d.credits)
         from (${ledgerStateSql(ctx)}) d
        where d.id = any(?::bigint[]) and ${DRIFTED}`,
      [keys],
    );
    return { [LEDGER]: written };
  },
};
