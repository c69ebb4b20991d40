// seed #1, #2, contract: every subscription names its plan, by a validated foreign key.
import type { Migration } from '../db/migrations.js';
import { createFillTrigger, dropFillTrigger, SUBSCRIPTION_PLAN } from './support/expand-triggers.js';
import { plural, setNotNull, writeCount } from './support/ddl.js';

const migration: Migration = {
  description: 'subscriptions: plan_id not null and indexed, its foreign key validated (seed #1, #2)',
  phase: 'contract',
  locks: [
    { table: 'igny8_subscriptions', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_plans', mode: 'ROW SHARE' },
  ],
  async up({ trx, note }) {
    await dropFillTrigger(trx, SUBSCRIPTION_PLAN);
    // The trigger filled every insert since expand; an update that emptied one is filled alike.
    const filled = await writeCount(
      trx,
      `update igny8_subscriptions s set plan_id = a.plan_id from igny8_accounts a where a.id = s.account_id and s.plan_id is null`,
    );
    await trx.raw(`alter table igny8_subscriptions validate constraint igny8_subscriptions_plan_id_fkey`);
    await setNotNull(trx, 'igny8_subscriptions', 'plan_id');
    await trx.raw(`create index igny8_subscriptions_plan_id_idx on igny8_subscriptions (plan_id)`);
    note(`every subscription names its plan${filled > 0 ? ` (${plural(filled, 'subscription')} without one given the account's)` : ''}`);
  },
  async down({ trx }) {
    await trx.raw(`drop index igny8_subscriptions_plan_id_idx`);
    await trx.raw(`alter table igny8_subscriptions alter column plan_id drop not null`);
    await createFillTrigger(trx, SUBSCRIPTION_PLAN);
  },
};

export default migration;
