// What billing needs beside the tables it has: a record of every billing run (who ran it,
// igny8's version, the instant billed and what changed), a plan change scheduled for the end
// of a subscription's period, at most one renewal invoice per subscription and period (two
// runs can never bill one period twice), and the indexes a run reads through.
import type { Migration } from '../db/migrations.js';
import { execStatements } from '../db/transaction.js';
import { BILLING_RUNS_TABLE } from '../domain/billing-run.js';

const migration: Migration = {
  description: 'billing: a record of billing runs, scheduled plan changes, one renewal invoice per period',
  phase: 'expand',
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
      `alter table igny8_subscriptions add column scheduled_plan_id bigint null references igny8_plans(id)`,
      `create index igny8_subscriptions_scheduled_plan_id on igny8_subscriptions (scheduled_plan_id)`,
      `create index igny8_subscriptions_period_end_billable on igny8_subscriptions (current_period_end)
         where status in ('active', 'past_due')`,
      `create index igny8_invoices_due_date_open on igny8_invoices (due_date) where status in ('pending', 'overdue')`,
      `create unique index igny8_invoices_renewal_period on igny8_invoices (subscription_id, (metadata->>'period_start'))
         where metadata->>'source' = 'renewal'`,
    ]);
    note('billing runs are recorded; renewals are unique per subscription and period');
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
