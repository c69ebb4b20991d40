// seed #11: the ledger's running balance never goes below zero, even by hand. The constraint is
// added NOT VALID, so every new row is checked at once without reading the history; the old
// rows are judged by the ledger-negative-balance rule (a warning: history is immutable, it is
// never rewritten). Where none is below zero the constraint is validated and the schema
// enforces it; elsewhere it stays NOT VALID and the migration says how many rows keep it so.
import type { Migration } from '../db/migrations.js';
import { ledgerNegativeBalance, LEDGER_NON_NEGATIVE } from '../rules/ledger-negative-balance.js';
import { countRuleFindings } from './support/preconditions.js';

const LEDGER = 'igny8_credit_transactions';

const migration: Migration = {
  description: 'ledger: check (balance_after >= 0), validated where history allows (seed #11)',
  async up({ trx, note }) {
    await trx.raw(`alter table ${LEDGER} add constraint ${LEDGER_NON_NEGATIVE} check (balance_after >= 0) not valid`);
    const negative = await countRuleFindings(trx, ledgerNegativeBalance);
    if (negative === 0) {
      await trx.raw(`alter table ${LEDGER} validate constraint ${LEDGER_NON_NEGATIVE}`);
      note('ledger balances can no longer go below zero (constraint validated)');
    } else {
      note(
        `new ledger rows can no longer go below zero; ${negative} older rows are below it, so the constraint stays NOT VALID ` +
          '(`igny8 audit --check ledger-negative-balance` lists them)',
      );
    }
  },
  async down({ trx }) {
    await trx.raw(`alter table ${LEDGER} drop constraint ${LEDGER_NON_NEGATIVE}`);
  },
};

export default migration;
