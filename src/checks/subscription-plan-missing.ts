// seed #1, #2: a subscription must say which plan it is for. Legacy subscriptions have no
// plan column at all; the migration adds it, backfilled from the account's plan.
import { enforced, missingTables, notApplicable, notNullConstraint, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const subscriptionPlanMissing: Check = {
  id: 'subscription-plan-missing',
  severity: 'error',
  title: 'subscriptions without a plan',
  remedy: "igny8 repair subscription-plan-missing: backfill from the account's plan",
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_subscriptions', accounts);
    if (missing) return missing;
    if (!schema.hasColumn('igny8_subscriptions', 'plan_id')) {
      return notApplicable("igny8_subscriptions has no plan_id column yet: `igny8 migrate` adds it, backfilled from each account's plan");
    }
    const guaranteed = notNullConstraint(ctx, 'igny8_subscriptions', 'plan_id');
    if (guaranteed) return enforced(guaranteed);
    const owner = schema.accountColumn('igny8_subscriptions');
    return runFindings(ctx, {
      sql: `select 'subscription:' || s.id as key, a.slug as account, s.id as sort,
                   s.status, p.slug as account_plan
              from igny8_subscriptions s
              join ${accounts} a on a.id = s.${owner}
              left join igny8_plans p on p.id = a.plan_id
             where s.plan_id is null${scopeTo(ctx, 'a.id')}`,
    });
  },
};
