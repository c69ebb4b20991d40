// seed #1, #2: a subscription must say which plan it is for. Legacy subscriptions have no
// plan column at all: migration 0007 adds it, backfilled from the account's plan, then NOT
// NULL, after which this rule is enforced by the schema. In between (a nullable column), a
// NULL is backfilled the same way by the repair.
import { updateLogged } from '../repairs/log.js';
import { enforcedByNotNull, missingTables, scopeTo, withinIds } from './sql.js';
import type { FindingSql, Rule, Shape, TargetKey } from './types.js';

const SUBSCRIPTIONS = 'igny8_subscriptions';

function findings(shape: Shape, within?: readonly TargetKey[]): FindingSql {
  const { schema } = shape;
  const batch = withinIds('s.id', within);
  return {
    sql: `select 'subscription:' || s.id as key, s.id as target, a.slug as account, s.id as sort,
                 s.status, p.slug as account_plan, a.plan_id as _plan_id
            from ${SUBSCRIPTIONS} s
            join ${schema.accountsTable} a on a.id = s.${schema.accountColumn(SUBSCRIPTIONS)}
            left join igny8_plans p on p.id = a.plan_id
           where s.plan_id is null${scopeTo(shape, 'a.id')}${batch.sql}`,
    bindings: batch.bindings,
  };
}

export const subscriptionPlanMissing: Rule = {
  id: 'subscription-plan-missing',
  severity: 'error',
  scope: 'account',
  title: 'subscriptions without a plan',
  remedy: "igny8 repair subscription-plan-missing: backfill from the account's plan",
  verdict(shape) {
    const missing = missingTables(shape, SUBSCRIPTIONS, shape.schema.accountsTable);
    if (missing) return missing;
    if (!shape.schema.hasColumn(SUBSCRIPTIONS, 'plan_id')) {
      return {
        kind: 'not-applicable',
        reason: `${SUBSCRIPTIONS} has no plan_id column yet: \`igny8 migrate\` adds it, backfilled from each account's plan`,
      };
    }
    return enforcedByNotNull(shape, SUBSCRIPTIONS, 'plan_id');
  },
  findings,
  repair: {
    action: "set the subscription's plan to its account's plan",
    table: () => SUBSCRIPTIONS,
    change: (row) => `plan → ${String(row.account_plan)}`,
    async apply(ctx, keys) {
      const missing = findings(ctx.shape, keys);
      const written = await updateLogged(
        ctx,
        SUBSCRIPTIONS,
        'plan_id = src.plan_id, updated_at = now()',
        `select f.target as id, f._plan_id as plan_id from (${missing.sql}) f`,
        missing.bindings,
      );
      return { [SUBSCRIPTIONS]: written };
    },
  },
};
