// The change journal behind `audit --incremental`: statement-level triggers on every tenant
// table append the ids of the accounts a statement wrote (one row per account and statement,
// not per row), and a recorded audit keeps its snapshot as the mark changes are read from.
// Additive only: a new table, new triggers, a new nullable column; the triggers need no
// grant from the application's role (src/audit/journal.ts).
import type { Migration } from '../db/migrations.js';
import { attachJournal, createJournal, dropJournal, MARK_COLUMN } from '../audit/journal.js';

/** The tenant and shared tables of the chain when this migration runs: the ones it attaches to. */
const JOURNALED_AT_0070 = [
  'igny8_accounts',
  'igny8_users',
  'igny8_sites',
  'igny8_sectors',
  'igny8_site_user_access',
  'igny8_site_integrations',
  'igny8_subscriptions',
  'igny8_invoices',
  'igny8_account_payment_methods',
  'igny8_credit_transactions',
  'igny8_account_status_history',
  'igny8_plans',
  'igny8_industries',
  'igny8_industry_sectors',
];

const migration: Migration = {
  description: 'change journal: the accounts whose tenant rows changed, for audit --incremental',
  phase: 'expand',
  // A statement-level trigger on each journaled table (catalog only) and a nullable column on
  // the audit history; no table's rows are read.
  locks: [
    ...JOURNALED_AT_0070.map((table) => ({ table, mode: 'SHARE ROW EXCLUSIVE' as const })),
    { table: 'igny8_audit_runs', mode: 'ACCESS EXCLUSIVE' },
  ],
  async up({ trx, note }) {
    await createJournal(trx);
    await trx.raw(`alter table igny8_audit_runs add column ${MARK_COLUMN} pg_snapshot null`);
    const tables = await attachJournal(trx);
    note(`${tables.length} tables journal the accounts they change: ${tables.join(', ')}`);
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_audit_runs drop column ${MARK_COLUMN}`);
    await dropJournal(trx);
  },
};

export default migration;
