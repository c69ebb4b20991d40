// seed #1, #2: a subscription names its plan. Legacy subscriptions have no plan column at
// all (the migration that adds it backfills it from the account's plan); where the column
// exists and is still nullable, a NULL is backfilled the same way.
import { updateLogged } from './log.js';
import { enforcedNotNull, ids, inScope, names, rows, within } from './shape.js';
import type { Repair } from './types.js';

const SUBSCRIPTIONS = 'igny8_subscriptions';

export const subscriptionPlanMissing: Repair = {
  checkId: 'subscription-plan-missing',
  action: "set the subscription's plan to its account's plan",
  table: () => SUBSCRIPTIONS,
  notApplicable(schema) {
    if (!schema.hasColumn(SUBSCRIPTIONS, 'plan_id')) {
      return "legacy subscriptions have no plan column; the migration that adds it backfills it from the account's plan";
    }
    return enforcedNotNull(schema, SUBSCRIPTIONS, 'plan_id') ? 'enforced by schema: every subscription has a plan' : undefined;
  },
  async targets(ctx, keys) {
    const col = names(ctx.schema).acct(SUBSCRIPTIONS);
    const filter = within('s.id', keys);
    return ids(
      ctx,
      `select s.id from ${SUBSCRIPTIONS} s where s.plan_id is null${inScope(ctx, `s.${col}`)}${filter.sql} order by s.id`,
      filter.bindings,
    );
  },
  async examples(ctx, keys) {
    const { accounts, acct } = names(ctx.schema);
    const found = await rows<{ id: number; account: string; plan: string }>(
      ctx,
      `select s.id, a.slug as account, p.slug as plan from ${SUBSCRIPTIONS} s
         join ${accounts} a on a.id = s.${acct(SUBSCRIPTIONS)} join igny8_plans p on p.id = a.plan_id
        where s.id = any(?::bigint[]) order by s.id`,
      [keys],
    );
    return found.map((row) => ({ key: `subscription:${row.id}`, account: row.account, change: `plan → ${row.plan}` }));
  },
  async apply(ctx, keys) {
    const { accounts, acct } = names(ctx.schema);
    const written = await updateLogged(
      ctx,
      SUBSCRIPTIONS,
      'plan_id = src.plan_id, updated_at = now()',
      `select s.id, a.plan_id from ${SUBSCRIPTIONS} s join ${accounts} a on a.id = s.${acct(SUBSCRIPTIONS)}
        where s.id = any(?::bigint[]) and s.plan_id is null`,
      [keys],
    );
    return { [SUBSCRIPTIONS]: written };
  },
};
