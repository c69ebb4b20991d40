// seed #8: the payment method lived in three places that disagree. The account keeps exactly
// one default payment method, chosen by precedence: an existing default (the one matching
// the subscription, else the account, else the earliest), then the subscription's method,
// then the account's (on the target, where those columns are gone: the earliest enabled
// method the account has, else stripe, registration's default). Where the legacy columns still exist they are set to agree with it
// and each value they held keeps a payment method row, so the consolidating migration (and
// anyone reading the repair log) loses nothing.
import { PAYMENT_METHOD_LABELS } from '../domain/payment-methods.js';
import { insertLogged, tally, updateLogged } from './log.js';
import { ids, inScope, names, rows, within } from './shape.js';
import type { Repair, RepairContext, RepairKey, TableCounts } from './types.js';

const METHODS = 'igny8_account_payment_methods';
const SUBSCRIPTIONS = 'igny8_subscriptions';

function columns(ctx: RepairContext): { account: boolean; subscription: boolean } {
  return {
    account: ctx.schema.hasColumn(ctx.schema.accountsTable, 'payment_method'),
    subscription: ctx.schema.hasColumn(SUBSCRIPTIONS, 'payment_method'),
  };
}

/** Every account with the state the check reads; `drift` is the check's predicate. */
function stateSql(ctx: RepairContext): string {
  const { accounts, acct } = names(ctx.schema);
  const has = columns(ctx);
  const problems = ['d.defaults > 1', 's.id is not null and d.account_id is null'];
  if (has.account && has.subscription) problems.push('s.id is not null and s.payment_method <> a.payment_method');
  if (has.account) problems.push('d.defaults = 1 and d.default_type <> a.payment_method');
  else if (has.subscription) problems.push('d.defaults = 1 and s.id is not null and d.default_type <> s.payment_method');
  return `select a.id, a.slug, s.id as subscription_id,
                 ${has.account ? 'a.payment_method' : 'null::text'} as account_method,
                 ${has.subscription ? 's.payment_method' : 'null::text'} as subscription_method,
                 coalesce(d.defaults, 0)::int as defaults,
                 (${problems.map((problem) => `(${problem})`).join(' or ')}) as drift
            from ${accounts} a
            left join ${SUBSCRIPTIONS} s on s.${acct(SUBSCRIPTIONS)} = a.id
            left join (select ${acct(METHODS)} as account_id, count(*) as defaults, min(type) as default_type
                         from ${METHODS} where is_default group by ${acct(METHODS)}) d on d.account_id = a.id
           where true${inScope(ctx, 'a.id')}`;
}

interface Decision {
  id: number;
  slug: string;
  keep_id: number | null;
  chosen: string;
  account_method: string | null;
  subscription_method: string | null;
}

async function decide(ctx: RepairContext, keys: RepairKey[]): Promise<Decision[]> {
  const methodCol = names(ctx.schema).acct(METHODS);
  return rows<Decision>(
    ctx,
    `select st.id, st.slug, keep.id as keep_id, st.account_method, st.subscription_method,
            coalesce(keep.type, st.subscription_method, st.account_method,
                     (select x.type from ${METHODS} x where x.${methodCol} = st.id order by x.is_enabled desc, x.id limit 1),
                     'stripe') as chosen
       from (${stateSql(ctx)}) st
       left join lateral (select x.id, x.type from ${METHODS} x
                           where x.${methodCol} = st.id and x.is_default
                           order by (x.type = st.subscription_method) desc nulls last,
                                    (x.type = st.account_method) desc nulls last, x.id
                           limit 1) keep on true
      where st.id = any(?::bigint[]) and st.drift order by st.id`,
    [keys],
  );
}

export const paymentMethodDrift: Repair = {
  checkId: 'payment-method-drift',
  action: 'one default payment method per account (existing default, else the subscription’s, else the account’s); legacy columns made to agree',
  table: (schema) => schema.accountsTable,
  async targets(ctx, keys) {
    const filter = within('st.id', keys);
    return ids(ctx, `select st.id from (${stateSql(ctx)}) st where st.drift${filter.sql} order by st.id`, filter.bindings);
  },
  async examples(ctx, keys) {
    const decisions = await decide(ctx, keys);
    return decisions.map((row) => ({
      key: `account:${row.id}`,
      account: row.slug,
      account_method: row.account_method,
      subscription_method: row.subscription_method,
      change: `default payment method → ${row.chosen}${row.keep_id ? ' (existing default kept)' : ''}`,
    }));
  },
  async apply(ctx, keys) {
    const { accounts, acct } = names(ctx.schema);
    const methodCol = acct(METHODS);
    const has = columns(ctx);
    const decisions = await decide(ctx, keys);
    const counts: TableCounts = {};
    if (decisions.length === 0) return counts;
    const payload = JSON.stringify(
      decisions.map((row) => ({
        account_id: row.id,
        keep_id: row.keep_id,
        chosen: row.chosen,
        account_method: row.account_method,
        subscription_method: row.subscription_method,
      })),
    );
    const decision = `jsonb_to_recordset(?::jsonb) as m(account_id bigint, keep_id bigint, chosen text, account_method text,
                                                   subscription_method text)`;
    const update = (set: string, where: string) =>
      updateLogged(ctx, METHODS, set, `select o.id from ${decision} join ${METHODS} o on ${where}`, [payload]);
    // Other defaults first: the target's partial unique index allows one default at a time.
    tally(counts, METHODS, await update('is_default = false', `o.${methodCol} = m.account_id and o.is_default and o.id <> m.keep_id`));
    tally(
      counts,
      METHODS,
      await update(
        'is_default = true',
        `m.keep_id is null and o.id = (select min(y.id) from ${METHODS} y where y.${methodCol} = m.account_id and y.type = m.chosen)`,
      ),
    );
    // The chosen method as the default where the account has no row of its type; and the
    // values the legacy columns held as non-default rows, as the consolidating migration
    // keeps them: no payment method the account once named vanishes.
    tally(
      counts,
      METHODS,
      await insertLogged(
        ctx,
        METHODS,
        `${methodCol}, type, display_name, is_default, is_enabled, is_verified, instructions, metadata`,
        `select distinct on (v.account_id, v.type) v.account_id, v.type, coalesce(?::jsonb->>v.type, v.type), v.is_default,
                true, false, '', '{"source": "repair"}'::jsonb
           from (select m.account_id, m.chosen as type, true as is_default, 0 as rank from ${decision} where m.keep_id is null
                 union all select m.account_id, m.account_method, false, 1 from ${decision}
                 union all select m.account_id, m.subscription_method, false, 1 from ${decision}) v
          where v.type is not null
            and not exists (select 1 from ${METHODS} y where y.${methodCol} = v.account_id and y.type = v.type)
          order by v.account_id, v.type, v.rank`,
        [JSON.stringify(PAYMENT_METHOD_LABELS), payload, payload, payload],
      ),
    );
    if (has.account) {
      tally(
        counts,
        accounts,
        await updateLogged(
          ctx,
          accounts,
          'payment_method = src.chosen, updated_at = now()',
          `select o.id, m.chosen from ${decision} join ${accounts} o on o.id = m.account_id where o.payment_method <> m.chosen`,
          [payload],
        ),
      );
    }
    if (has.subscription) {
      tally(
        counts,
        SUBSCRIPTIONS,
        await updateLogged(
          ctx,
          SUBSCRIPTIONS,
          'payment_method = src.chosen, updated_at = now()',
          `select o.id, m.chosen from ${decision} join ${SUBSCRIPTIONS} o on o.${acct(SUBSCRIPTIONS)} = m.account_id
            where o.payment_method <> m.chosen`,
          [payload],
        ),
      );
    }
    return counts;
  },
};
