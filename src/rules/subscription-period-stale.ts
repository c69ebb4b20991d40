// An active subscription more than a day past the end of its period: the billing run, which
// moves every ended period on (src/domain/billing-run.ts), is not running. Judged once igny8
// bills (a billing run has been recorded): before that the legacy application keeps the
// periods, and their dates are its business.
import { BILLING_RUNS_TABLE } from '../domain/billing-run.js';
import { missingTables, scopeTo } from './sql.js';
import type { Rule } from './types.js';

const SUBSCRIPTIONS = 'igny8_subscriptions';

export const subscriptionPeriodStale: Rule = {
  id: 'subscription-period-stale',
  severity: 'warning',
  title: 'active subscriptions more than a day past their period end (the billing run is not running)',
  remedy: 'igny8 billing run: renews every ended period; schedule it (daily)',
  verdict(shape) {
    return missingTables(shape, SUBSCRIPTIONS, BILLING_RUNS_TABLE, shape.schema.accountsTable);
  },
  findings(shape) {
    const { schema } = shape;
    return {
      sql: `select 'subscription:' || s.id as key, null::bigint as target, a.slug as account, s.current_period_end as sort,
                   s.status, s.current_period_end, date_part('day', now() - s.current_period_end)::int as days_past
              from ${SUBSCRIPTIONS} s
              join ${schema.accountsTable} a on a.id = s.${schema.accountColumn(SUBSCRIPTIONS)}
             where s.status in ('active', 'past_due') and s.current_period_end < now() - interval '1 day'
               and exists (select 1 from ${BILLING_RUNS_TABLE})${scopeTo(shape, 'a.id')}`,
    };
  },
};
