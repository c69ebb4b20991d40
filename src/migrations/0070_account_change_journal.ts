// The change journal behind `audit --incremental`: statement-level triggers on every tenant
// table append the ids of the accounts a statement wrote (one row per account and statement,
// not per row), and a recorded audit keeps its snapshot as the mark changes are read from.
// Additive only: a new table, new triggers, a new nullable column; the triggers need no
// grant from the application's role (src/audit/journal.ts).
import type { Migration } from '../db/migrations.js';
import { attachJournal, createJournal, dropJournal, MARK_COLUMN } from '../audit/journal.js';

const migration: Migration = {
  description: 'change journal: the accounts whose tenant rows changed, for audit --incremental',
  phase: 'expand',
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
