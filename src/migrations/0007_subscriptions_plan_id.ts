// seed #1, #2: a subscription names its plan. Backfilled from the account's plan (the only
// plan the legacy data knows for it). Expand: the column, a trigger giving a subscription the
// legacy application inserts without a plan the account's plan, the foreign key NOT VALID (all
// brief), then the backfill in batches. Contract (0053) validates the key, sets NOT NULL,
// builds the index and drops the trigger.
import type { Migration } from '../db/migrations.js';
import { createFillTrigger, dropFillTrigger, SUBSCRIPTION_PLAN } from './support/expand-triggers.js';

const migration: Migration = {
  description: "subscriptions: plan_id, backfilled from the account's plan; filled on insert until contract (seed #1, #2)",
  phase: 'expand',
  locks: [
    { table: 'igny8_subscriptions', mode: 'ACCESS EXCLUSIVE' },
    { table: 'igny8_plans', mode: 'SHARE ROW EXCLUSIVE' },
  ],
  async up({ trx }) {
    await trx.raw(`alter table igny8_subscriptions add column plan_id bigint null`);
    await createFillTrigger(trx, SUBSCRIPTION_PLAN);
    await trx.raw(
      `alter table igny8_subscriptions add constraint igny8_subscriptions_plan_id_fkey
         foreign key (plan_id) references igny8_plans (id) not valid`,
    );
  },
  backfills: [
    {
      table: 'igny8_subscriptions',
      remaining: `select count(*) as count from igny8_subscriptions where plan_id is null`,
      batch: `update igny8_subscriptions s set plan_id = a.plan_id from igny8_accounts a
               where a.id = s.account_id and s.plan_id is null and s.id >= ? and s.id < ?`,
    },
  ],
  async down({ trx }) {
    await dropFillTrigger(trx, SUBSCRIPTION_PLAN);
    await trx.raw(`alter table igny8_subscriptions drop column plan_id`);
  },
};

export default migration;
