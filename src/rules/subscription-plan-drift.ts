// seed #2: once subscriptions carry a plan, it should be the account's plan. Which one is
// right (an upgrade half-applied, a plan changed by hand) is for a person: no repair.
import { missingTables, scopeTo } from './sql.js';
import type { Rule } from './types.js';

const SUBSCRIPTIONS = 'igny8_subscriptions';

export const subscriptionPlanDrift: Rule = {
  id: 'subscription-plan-drift',
  severity: 'warning',
  scope: 'account',
  title: "subscriptions whose plan differs from the account's plan",
  remedy: 'no repair: a person decides which plan is right',
  verdict(shape) {
    const missing = missingTables(shape, SUBSCRIPTIONS, 'igny8_plans', shape.schema.accountsTable);
    if (missing) return missing;
    if (!shape.schema.hasColumn(SUBSCRIPTIONS, 'plan_id')) {
      return { kind: 'not-applicable', reason: `${SUBSCRIPTIONS} has no plan_id column yet: \`igny8 migrate\` adds it` };
    }
    return undefined;
  },
  findings(shape) {
    const { schema } = shape;
    return {
      sql: `select 'subscription:' || s.id as key, null::bigint as target, a.slug as account, s.id as sort,
                   sp.slug as subscription_plan, ap.slug as account_plan, s.status
              from ${SUBSCRIPTIONS} s
              join ${schema.accountsTable} a on a.id = s.${schema.accountColumn(SUBSCRIPTIONS)}
              join igny8_plans sp on sp.id = s.plan_id
              join igny8_plans ap on ap.id = a.plan_id
             where s.plan_id <> a.plan_id${scopeTo(shape, 'a.id')}${scopeTo(shape, `s.${schema.accountColumn(SUBSCRIPTIONS)}`)}`,
    };
  },
};
