// Who ran each repair, undo and key rotation, why, and with which igny8: one row per run
// beside the repair log. A repair on the legacy shape makes the table before this migration
// runs; here every database gets it. Additive.
import type { Migration } from '../db/migrations.js';
import { ensureRunsTable, RUNS_TABLE } from '../repairs/runs.js';

const migration: Migration = {
  description: 'operation runs: who ran each repair, undo and key rotation, why, and igny8 version',
  phase: 'expand',
  locks: [],
  async up({ trx }) {
    await ensureRunsTable(trx);
  },
  async down({ trx }) {
    await trx.raw(`drop table if exists ${RUNS_TABLE}`);
  },
};

export default migration;
