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
    // Each problem once, in the order a person would fix them.
    const problems: Array<[string, string]> = [
      ['d.defaults > 1', 'several default payment methods'],
      ['s.id is not null and d.account_id is null', 'a subscription but no default payment method'],
    ];
    if (accountColumn && subscriptionColumn) {
      problems.push(['s.id is not null and s.payment_method <> a.payment_method', 'subscription and account payment methods differ']);
    }
    if (accountColumn) {
      problems.push(['d.defaults = 1 and d.default_type <> a.payment_method', 'default payment method differs from the account']);
    } else if (subscriptionColumn) {
      problems.push(['d.defaults = 1 and s.id is not null and d.default_type <> s.payment_method', 'default payment method differs from the subscription']);
    }
    return runFindings(ctx, {
      sql: `select 'account:' || a.id as key, a.slug as account, a.id as sort,
                   case ${problems.map(([when, text]) => `when ${when} then '${text}'`).join(' ')} end as problem,
                   ${accountColumn ? 'a.payment_method' : 'null'} as account_method,
                   ${subscriptionColumn ? 's.payment_method' : 'null'} as subscription_method,
                   d.default_type, coalesce(d.defaults, 0) as defaults
              from ${accounts} a
              left join igny8_subscriptions s on s.${subscriptionOwner} = a.id
              left join (select ${methodOwner} as account_id, count(*) as defaults, min(type) as default_type
                           from igny8_account_payment_methods where is_default group by ${methodOwner}) d
                on d.account_id = a.id
             where (${problems.map(([when]) => `(${when})`).join(' or ')})${scopeTo(ctx, 'a.id')}`,
    });
  },
};
