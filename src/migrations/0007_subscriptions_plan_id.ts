// seed #1, #2: a subscription names its plan. Backfilled from the account's plan (the only
// plan the legacy data knows for it), then NOT NULL and a foreign key, added lock-friendly.
import type { Migration } from '../db/migrations.js';
import { addForeignKey, plural, setNotNull, withIndexesRebuilt, writeCount } from './support/ddl.js';

const migration: Migration = {
  description: "subscriptions: plan_id not null, backfilled from the account's plan (seed #1, #2)",
  async up({ trx, note }) {
    await trx.raw(`alter table igny8_subscriptions add column plan_id bigint null`);
    const filled = await withIndexesRebuilt(trx, 'igny8_subscriptions', () =>
      writeCount(trx, `update igny8_subscriptions s set plan_id = a.plan_id from igny8_accounts a where a.id = s.account_id`),
    );
    await addForeignKey(trx, {
      table: 'igny8_subscriptions',
      name: 'igny8_subscriptions_plan_id_fkey',
      columns: ['plan_id'],
      references: 'igny8_plans',
      referencedColumns: ['id'],
    });
    await setNotNull(trx, 'igny8_subscriptions', 'plan_id');
    await trx.raw(`create index igny8_subscriptions_plan_id_idx on igny8_subscriptions (plan_id)`);
    note(`${plural(filled, 'subscription')} backfilled with the account's plan`);
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_subscriptions drop column plan_id`);
  },
};

export default migration;
