// seed #8: the payment method lived in three places (account, subscription, saved payment
// methods). The saved default payment method is the one source: the legacy columns must
// agree with it, an account with a subscription needs one, and there is at most one.
import { missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const paymentMethodDrift: Check = {
  id: 'payment-method-drift',
  severity: 'error',
  title: 'account, subscription and default payment method disagree, or no single default',
  remedy: 'igny8 repair payment-method-drift: consolidate into one default payment method',
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_account_payment_methods', 'igny8_subscriptions', accounts);
    if (missing) return missing;
    const methodOwner = schema.accountColumn('igny8_account_payment_methods');
    const subscriptionOwner = schema.accountColumn('igny8_subscriptions');
    const accountColumn = schema.hasColumn(accounts, 'payment_method');
    const subscriptionColumn = schema.hasColumn('igny8_subscriptions', 'payment_method');
    // Each problem once, in the order a person would fix them. `m` holds the few accounts with
    // several defaults; every other account meets its one default (or none) in `d` directly:
    // grouping 600 k default methods per account to find the few took 2.5× as long.
    const problems: Array<[string, string]> = [
      ['m.account_id is not null', 'several default payment methods'],
      ['s.id is not null and d.id is null', 'a subscription but no default payment method'],
    ];
    if (accountColumn && subscriptionColumn) {
      problems.push(['s.id is not null and s.payment_method <> a.payment_method', 'subscription and account payment methods differ']);
    }
    if (accountColumn) {
      problems.push(['m.account_id is null and d.type <> a.payment_method', 'default payment method differs from the account']);
    } else if (subscriptionColumn) {
      problems.push(['m.account_id is null and s.id is not null and d.type <> s.payment_method', 'default payment method differs from the subscription']);
    }
    return runFindings(ctx, {
      sql: `select distinct on (a.id) 'account:' || a.id as key, a.slug as account, a.id as sort,
                   case ${problems.map(([when, text]) => `when ${when} then '${text}'`).join(' ')} end as problem,
                   ${accountColumn ? 'a.payment_method' : 'null'} as account_method,
                   ${subscriptionColumn ? 's.payment_method' : 'null'} as subscription_method,
                   coalesce(m.default_type, d.type) as default_type,
                   coalesce(m.defaults, case when d.id is null then 0 else 1 end) as defaults
              from ${accounts} a
              left join igny8_subscriptions s on s.${subscriptionOwner} = a.id
              left join igny8_account_payment_methods d on d.${methodOwner} = a.id and d.is_default
              left join (select ${methodOwner} as account_id, count(*) as defaults, min(type) as default_type
                           from igny8_account_payment_methods where is_default
                          group by ${methodOwner} having count(*) > 1) m on m.account_id = a.id
             where (${problems.map(([when]) => `(${when})`).join(' or ')})${scopeTo(ctx, 'a.id')}
             order by a.id`,
    });
  },
};
