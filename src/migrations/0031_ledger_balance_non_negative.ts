// seed #11: the ledger's running balance never goes below zero, even by hand. Expand adds the
// constraint NOT VALID, so every new row is checked at once without reading the history; the
// old rows are judged by the ledger-negative-balance rule (a warning: history is immutable, it
// is never rewritten). Contract (0057) validates it where none is below zero.
import type { Migration } from '../db/migrations.js';
import { LEDGER_NON_NEGATIVE } from '../rules/ledger-negative-balance.js';

const LEDGER = 'igny8_credit_transactions';

const migration: Migration = {
  description: 'ledger: check (balance_after >= 0) NOT VALID: new rows are checked (seed #11)',
  phase: 'expand',
  locks: [
    { table: 'igny8_credit_transactions', mode: 'ACCESS EXCLUSIVE' },
  ],
  async up({ trx, note }) {
    await trx.raw(`alter table ${LEDGER} add constraint ${LEDGER_NON_NEGATIVE} check (balance_after >= 0) not valid`);
    note('new ledger rows can no longer go below zero');
  },
  async down({ trx }) {
    await trx.raw(`alter table ${LEDGER} drop constraint ${LEDGER_NON_NEGATIVE}`);
  },
};

export default migration;
