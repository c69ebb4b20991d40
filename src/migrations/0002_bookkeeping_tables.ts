// The tables igny8 itself keeps: the repair log (every row a repair changed, before and after)
// and the recorded audit runs with their findings. They have no preconditions, so on a legacy
// database this migration always applies before any migration that waits for a repair.
import type { Migration } from '../db/migrations.js';
import { execStatements } from '../db/transaction.js';
import { DomainRefusal } from '../errors.js';
import { countRows } from './support/preconditions.js';

const TABLES = ['igny8_audit_findings', 'igny8_audit_runs', 'igny8_repair_log'] as const;

const migration: Migration = {
  description: 'bookkeeping tables: the repair log and recorded audit runs',
  phase: 'expand',
  locks: [],
  async up({ trx }) {
    await execStatements(trx, [
      `create table igny8_repair_log (
        id bigserial primary key,
        run_id uuid not null,
        check_id varchar(64) not null,
        table_name varchar(63) not null,
        row_pk jsonb not null,
        before jsonb null,
        after jsonb null,
        changed_at timestamptz not null default now()
      )`,
      `create index igny8_repair_log_run_id_idx on igny8_repair_log (run_id)`,
      `create index igny8_repair_log_check_id_idx on igny8_repair_log (check_id)`,
      `create table igny8_audit_runs (
        run_id uuid primary key default gen_random_uuid(),
        started_at timestamptz not null,
        finished_at timestamptz not null,
        duration_ms integer not null,
        schema_version text null,
        account_slug text null,
        fail_on text not null,
        exit_code integer not null,
        totals jsonb not null default '{}'
      )`,
      `create table igny8_audit_findings (
        id bigserial primary key,
        run_id uuid not null references igny8_audit_runs (run_id),
        check_id varchar(64) not null,
        severity varchar(10) not null,
        status varchar(20) not null,
        count integer not null default 0,
        suppressed integer not null default 0,
        samples jsonb not null default '[]'
      )`,
      `create index igny8_audit_findings_run_id_idx on igny8_audit_findings (run_id)`,
      `create index igny8_audit_findings_check_id_run_id_idx on igny8_audit_findings (check_id, run_id)`,
    ]);
  },
  async down({ trx }) {
    // The history is the record of what repairs did: never dropped while it holds rows.
    for (const table of TABLES) {
      const rows = await countRows(trx, `select count(*) as count from ${table}`);
      if (rows > 0) {
        throw new DomainRefusal(`cannot revert: ${table} holds ${rows} rows of history; export or delete them first`);
      }
    }
    await execStatements(trx, TABLES.map((table) => `drop table ${table}`));
  },
};

export default migration;
