// seed #1, #2: a subscription names its plan. Backfilled from the account's plan (the only
// plan the legacy data knows for it). Expand: the column, the backfill, the foreign key NOT
// VALID, the index, and a trigger giving a subscription the legacy application inserts without
// a plan the account's plan. Contract (0053) validates the key, sets NOT NULL, drops the trigger.
import type { Migration } from '../db/migrations.js';
import { createFillTrigger, dropFillTrigger, SUBSCRIPTION_PLAN } from './support/expand-triggers.js';
import { plural, withIndexesRebuilt, writeCount } from './support/ddl.js';

const migration: Migration = {
  description: "subscriptions: plan_id, backfilled from the account's plan; filled on insert until contract (seed #1, #2)",
  phase: 'expand',
  async up({ trx, note }) {
    await trx.raw(`alter table igny8_subscriptions add column plan_id bigint null`);
    await createFillTrigger(trx, SUBSCRIPTION_PLAN);
    const filled = await withIndexesRebuilt(trx, 'igny8_subscriptions', () =>
      writeCount(trx, `update igny8_subscriptions s set plan_id = a.plan_id from igny8_accounts a where a.id = s.account_id`),
    );
    await trx.raw(
      `alter table igny8_subscriptions add constraint igny8_subscriptions_plan_id_fkey
         foreign key (plan_id) references igny8_plans (id) not valid`,
    );
    await trx.raw(`create index igny8_subscriptions_plan_id_idx on igny8_subscriptions (plan_id)`);
    note(`${plural(filled, 'subscription')} backfilled with the account's plan`);
  },
  async down({ trx }) {
    await dropFillTrigger(trx, SUBSCRIPTION_PLAN);
    await trx.raw(`alter table igny8_subscriptions drop column plan_id`);
  },
};

export default migration;
