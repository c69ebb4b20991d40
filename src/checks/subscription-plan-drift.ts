// seed #2: once subscriptions carry a plan, it should be the account's plan.
import { missingTables, notApplicable, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const subscriptionPlanDrift: Check = {
  id: 'subscription-plan-drift',
  severity: 'warning',
  title: "subscriptions whose plan differs from the account's plan",
  remedy: 'no repair: a person decides which plan is right',
  repairable: false,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_subscriptions', 'igny8_plans', accounts);
    if (missing) return missing;
    if (!schema.hasColumn('igny8_subscriptions', 'plan_id')) {
      return notApplicable('igny8_subscriptions has no plan_id column yet: `igny8 migrate` adds it');
    }
    const owner = schema.accountColumn('igny8_subscriptions');
    return runFindings(ctx, {
      sql: `select 'subscription:' || s.id as key, a.slug as account, s.id as sort,
                   sp.slug as subscription_plan, ap.slug as account_plan, s.status
              from igny8_subscriptions s
              join ${accounts} a on a.id = s.${owner}
              join igny8_plans sp on sp.id = s.plan_id
              join igny8_plans ap on ap.id = a.plan_id
             where s.plan_id <> a.plan_id${scopeTo(ctx, 'a.id')}`,
    });
  },
};
