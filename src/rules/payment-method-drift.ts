// seed #8: the payment method lived in three places (account, subscription, saved payment
// methods). The saved default payment method is the one source: the legacy columns must
// agree with it, an account with a subscription needs one, and there is at most one. The
// several-defaults rows gate migration 0013, which adds the one-default index.
//
// Repair: the account keeps exactly one default payment method, chosen by precedence: an
// existing default (the one matching the subscription, else the account, else the earliest),
// then the subscription's method, then the account's (on the target, where those columns are
// gone: the earliest enabled method the account has, else stripe, registration's default).
// Where the legacy columns still exist they are set to agree with it and each value they held
// keeps a payment method row, so the consolidating migration (and anyone reading the repair
// log) loses nothing.
import { newPaymentMethodsSql, PAYMENT_METHODS_TABLE as METHODS } from '../domain/payment-methods.js';
import { insertLogged, tally, updateLogged } from '../repairs/log.js';
import type { SchemaInfo } from '../schema/inspect.js';
import { findingRows } from './finding.js';
import { missingTables, scopeTo, withinIds } from './sql.js';
import type { RepairContext, Rule, TableCounts } from './types.js';

const SUBSCRIPTIONS = 'igny8_subscriptions';

/** Which legacy payment_method columns this shape still has. */
function legacyColumns(schema: SchemaInfo): { account: boolean; subscription: boolean } {
  return {
    account: schema.hasColumn(schema.accountsTable, 'payment_method'),
    subscription: schema.hasColumn(SUBSCRIPTIONS, 'payment_method'),
  };
}

/**
 * Inserts, logged, the payment methods `source` names (a FROM item aliased `v` with
 * account_id, type, is_default), made as registration makes them and marked as a repair's.
 * The repairs that create payment methods (this one, pending-payment-incomplete) use it.
 */
export function insertPaymentMethods(ctx: RepairContext, source: string, bindings: readonly unknown[]): Promise<number> {
  const insert = newPaymentMethodsSql(ctx.shape.schema.accountColumn(METHODS), source, `'{"source": "repair"}'::jsonb`);
  return insertLogged(ctx, METHODS, insert.columns, insert.select, bindings);
}

export const paymentMethodDrift: Rule = {
  id: 'payment-method-drift',
  severity: 'error',
  scope: 'account',
  title: 'account, subscription and default payment method disagree, or no single default',
  remedy: 'igny8 repair payment-method-drift: consolidate into one default payment method',
  verdict(shape) {
    return missingTables(shape, METHODS, SUBSCRIPTIONS, shape.schema.accountsTable);
  },
  findings(shape, within) {
    const { schema } = shape;
    const accounts = schema.accountsTable;
    const methodAccountColumn = schema.accountColumn(METHODS);
    const subscriptionAccountColumn = schema.accountColumn(SUBSCRIPTIONS);
    const has = legacyColumns(schema);
    // Each problem once, in the order a person would fix them. `m` holds the few accounts with
    // several defaults; every other account meets its one default (or none) in `d` directly:
    // grouping every default method per account to find the few costs a hash aggregate over
    // all of them (bench/RESULTS.md, "audit ≤ 3× floor").
    const problems: Array<[string, string]> = [
      ['m.account_id is not null', 'several default payment methods'],
      ['s.id is not null and d.id is null', 'a subscription but no default payment method'],
    ];
    if (has.account && has.subscription) {
      problems.push(['s.id is not null and s.payment_method <> a.payment_method', 'subscription and account payment methods differ']);
    }
    if (has.account) {
      problems.push(['m.account_id is null and d.type <> a.payment_method', 'default payment method differs from the account']);
    } else if (has.subscription) {
      problems.push(['m.account_id is null and s.id is not null and d.type <> s.payment_method', 'default payment method differs from the subscription']);
    }
    const severalBatch = withinIds(methodAccountColumn, within);
    const accountBatch = withinIds('a.id', within);
    // The drifting accounts first; then, for those few only, the default the repair keeps and
    // the method it settles on (`_keep_id`, `_chosen`).
    const drifting = `select distinct on (a.id) a.id, a.slug,
                             case ${problems.map(([when, text]) => `when ${when} then '${text}'`).join(' ')} end as problem,
                             ${has.account ? 'a.payment_method' : 'null::text'} as account_method,
                             ${has.subscription ? 's.payment_method' : 'null::text'} as subscription_method,
                             coalesce(m.default_type, d.type) as default_type,
                             coalesce(m.defaults, case when d.id is null then 0 else 1 end) as defaults
                        from ${accounts} a
                        left join ${SUBSCRIPTIONS} s on s.${subscriptionAccountColumn} = a.id${scopeTo(shape, `s.${subscriptionAccountColumn}`)}
                        left join ${METHODS} d on d.${methodAccountColumn} = a.id and d.is_default${scopeTo(shape, `d.${methodAccountColumn}`)}
                        left join (select ${methodAccountColumn} as account_id, count(*) as defaults, min(type) as default_type
                                     from ${METHODS} where is_default${scopeTo(shape, methodAccountColumn)}${severalBatch.sql}
                                    group by ${methodAccountColumn} having count(*) > 1) m on m.account_id = a.id
                       where (${problems.map(([when]) => `(${when})`).join(' or ')})${scopeTo(shape, 'a.id')}${accountBatch.sql}
                       order by a.id`;
    return {
      sql: `select 'account:' || f.id as key, f.id as target, f.slug as account, f.id as sort,
                   f.problem, f.account_method, f.subscription_method, f.default_type, f.defaults,
                   keep.id as _keep_id,
                   coalesce(keep.type, f.subscription_method, f.account_method,
                            (select x.type from ${METHODS} x where x.${methodAccountColumn} = f.id order by x.is_enabled desc, x.id limit 1),
                            'stripe') as _chosen
              from (${drifting}) f
              left join lateral (select x.id, x.type from ${METHODS} x
                                  where x.${methodAccountColumn} = f.id and x.is_default
                                  order by (x.type = f.subscription_method) desc nulls last,
                                           (x.type = f.account_method) desc nulls last, x.id
                                  limit 1) keep on true`,
      bindings: [...severalBatch.bindings, ...accountBatch.bindings],
    };
  },
  repair: {
    action: 'one default payment method per account (existing default, else the subscription’s, else the account’s); legacy columns made to agree',
    table: (schema) => schema.accountsTable,
    change: (row) => `default payment method → ${String(row._chosen)}${row._keep_id ? ' (existing default kept)' : ''}`,
    async apply(ctx, keys) {
      const { schema } = ctx.shape;
      const accounts = schema.accountsTable;
      const methodAccountColumn = schema.accountColumn(METHODS);
      const has = legacyColumns(schema);
      const found = await findingRows(ctx.trx, paymentMethodDrift.findings(ctx.shape, keys), keys.length);
      const counts: TableCounts = {};
      if (found.length === 0) return counts;
      const payload = JSON.stringify(
        found.map((row) => ({
          account_id: row.target,
          keep_id: row._keep_id,
          chosen: row._chosen,
          account_method: row.account_method,
          subscription_method: row.subscription_method,
        })),
      );
      const decision = `jsonb_to_recordset(?::jsonb) as m(account_id bigint, keep_id bigint, chosen text, account_method text,
                                                     subscription_method text)`;
      const update = (set: string, where: string) =>
        updateLogged(ctx, METHODS, set, `select o.id from ${decision} join ${METHODS} o on ${where}`, [payload]);
      // Other defaults first: the target's partial unique index allows one default at a time.
      tally(counts, METHODS, await update('is_default = false', `o.${methodAccountColumn} = m.account_id and o.is_default and o.id <> m.keep_id`));
      tally(
        counts,
        METHODS,
        await update(
          'is_default = true',
          `m.keep_id is null and o.id = (select min(y.id) from ${METHODS} y where y.${methodAccountColumn} = m.account_id and y.type = m.chosen)`,
        ),
      );
      // The chosen method as the default where the account has no row of its type; and the
      // values the legacy columns held as non-default rows, as the consolidating migration
      // keeps them: no payment method the account once named vanishes.
      tally(
        counts,
        METHODS,
        await insertPaymentMethods(
          ctx,
          `(select distinct on (u.account_id, u.type) u.account_id, u.type, u.is_default
              from (select m.account_id, m.chosen as type, true as is_default, 0 as rank from ${decision} where m.keep_id is null
                    union all select m.account_id, m.account_method, false, 1 from ${decision}
                    union all select m.account_id, m.subscription_method, false, 1 from ${decision}) u
             where u.type is not null
               and not exists (select 1 from ${METHODS} y where y.${methodAccountColumn} = u.account_id and y.type = u.type)
             order by u.account_id, u.type, u.rank) v`,
          [payload, payload, payload],
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
            `select o.id, m.chosen from ${decision} join ${SUBSCRIPTIONS} o on o.${schema.accountColumn(SUBSCRIPTIONS)} = m.account_id
              where o.payment_method <> m.chosen`,
            [payload],
          ),
        );
      }
      return counts;
    },
  },
};
