// The change journal reads the ledger's inserts from the ledger itself. The ledger is
// append-only (its triggers refuse UPDATE, DELETE and TRUNCATE) and its ids come from one
// sequence, so the rows above a recorded run's ledger bound are exactly the ledger inserts
// since: the ledger's insert trigger goes, and a recorded run keeps that bound beside its
// snapshot (src/audit/journal.ts). The update trigger learns to leave a statement that writes
// its own ledger rows to them (the credit service's): a grant, which wrote two journal rows
// while holding its account's row lock, writes none. Until the next recorded run,
// `audit --incremental` has no mark it can count from and says so.
// Expand: a trigger dropped, the trigger functions replaced and a nullable column added; no
// rows read.
import type { Migration } from '../db/migrations.js';
import { attachLedgerInsertTrigger, LEDGER_MARK_COLUMN, LEDGER_TABLE, replaceJournalFunctions } from '../audit/journal.js';

const migration: Migration = {
  description: 'change journal: ledger inserts are read from the ledger by id, not journaled',
  phase: 'expand',
  locks: [
    { table: 'igny8_audit_runs', mode: 'ACCESS EXCLUSIVE' },
    { table: LEDGER_TABLE, mode: 'ACCESS EXCLUSIVE' },
  ],
  async up({ trx, note }) {
    await trx.raw(`alter table igny8_audit_runs add column ${LEDGER_MARK_COLUMN} bigint null`);
    await trx.raw(`drop trigger if exists igny8_journal_insert on ${LEDGER_TABLE}`);
    await replaceJournalFunctions(trx);
    note('ledger inserts are now read from the ledger by id; the next `igny8 audit --record` sets the mark `audit --incremental` counts from');
  },
  async down({ trx }) {
    await attachLedgerInsertTrigger(trx);
    await trx.raw(`alter table igny8_audit_runs drop column ${LEDGER_MARK_COLUMN}`);
  },
};

export default migration;
