// What billing needs beside the tables it has: a record of every billing run (who ran it,
// igny8's version, the instant billed and what changed), a plan change scheduled for the end
// of a subscription's period, at most one renewal invoice per subscription and period (two
// runs can never bill one period twice), and the indexes a run reads through.
import type { Migration } from '../db/migrations.js';
import { execStatements } from '../db/transaction.js';
import { BILLING_RUNS_TABLE } from '../domain/billing-run.js';

const SCHEDULED_PLAN_KEY = 'igny8_subscriptions_scheduled_plan_id_fkey';

const migration: Migration = {
  description: 'billing: a record of billing runs, scheduled plan changes, one renewal invoice per period',
  phase: 'expand',
  // A nullable column and a key added NOT VALID: catalog changes; the indexes are built
  // concurrently and the key validated after, without blocking writes.
  locks: [
    { table: 'igny8_subscriptions', mode: 'ACCESS EXCLUSIVE' },
    { table: 'igny8_plans', mode: 'SHARE ROW EXCLUSIVE' },
  ],
  async up({ trx, note }) {
    await execStatements(trx, [
      `create table ${BILLING_RUNS_TABLE} (
         id uuid primary key,
         as_of timestamptz not null,
         grace_days integer not null,
         ran_by text not null,
         reason text null,
         igny8_version text not null,
         counts jsonb not null default '{}',
         started_at timestamptz not null default now(),
         finished_at timestamptz not null default clock_timestamp()
       )`,
      `alter table igny8_subscriptions add column scheduled_plan_id bigint null`,
      // NOT VALID: no scan under the lock; finish() validates it in a transaction of its own.
      `alter table igny8_subscriptions add constraint ${SCHEDULED_PLAN_KEY}
         foreign key (scheduled_plan_id) references igny8_plans(id) not valid`,
    ]);
    note('billing runs are recorded; renewals are unique per subscription and period');
  },
  concurrentIndexes: [
    {
      name: 'igny8_subscriptions_scheduled_plan_id',
      sql: `create index concurrently igny8_subscriptions_scheduled_plan_id on igny8_subscriptions (scheduled_plan_id)`,
    },
    {
      name: 'igny8_subscriptions_period_end_billable',
      sql: `create index concurrently igny8_subscriptions_period_end_billable on igny8_subscriptions (current_period_end)
              where status in ('active', 'past_due')`,
    },
    {
      name: 'igny8_invoices_due_date_open',
      sql: `create index concurrently igny8_invoices_due_date_open on igny8_invoices (due_date) where status in ('pending', 'overdue')`,
    },
    {
      name: 'igny8_invoices_renewal_period',
      sql: `create unique index concurrently igny8_invoices_renewal_period on igny8_invoices (subscription_id, (metadata->>'period_start'))
              where metadata->>'source' = 'renewal'`,
    },
  ],
  async finish({ trx }) {
    await trx.raw(`alter table igny8_subscriptions validate constraint ${SCHEDULED_PLAN_KEY}`);
  },
  async down({ trx }) {
    await execStatements(trx, [
      `drop index igny8_invoices_renewal_period`,
      `drop index igny8_invoices_due_date_open`,
      `drop index igny8_subscriptions_period_end_billable`,
      `alter table igny8_subscriptions drop column scheduled_plan_id`,
      `drop table ${BILLING_RUNS_TABLE}`,
    ]);
  },
};

export default migration;
