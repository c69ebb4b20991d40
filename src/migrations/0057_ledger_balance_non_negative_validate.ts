// seed #11, contract: the ledger's check (balance_after >= 0), added NOT VALID by 0031, is
// validated where no older row is below zero (the ledger-negative-balance rule judges them);
// elsewhere it stays NOT VALID and the migration says how many rows keep it so.
import type { Migration } from '../db/migrations.js';
import { ledgerNegativeBalance, LEDGER_NON_NEGATIVE } from '../rules/ledger-negative-balance.js';
import { countRuleFindings } from './support/preconditions.js';

const LEDGER = 'igny8_credit_transactions';

const migration: Migration = {
  description: 'ledger: check (balance_after >= 0) validated where history allows (seed #11)',
  phase: 'contract',
  locks: [
    { table: 'igny8_credit_transactions', mode: 'SHARE UPDATE EXCLUSIVE', work: 'scan' },
  ],
  async up({ trx, note }) {
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
  // A validated constraint cannot be made NOT VALID again; reverting 0031 drops it.
  async down({ note }) {
    note('the check stays as it is: reverting 0031 drops it');
  },
};

export default migration;
