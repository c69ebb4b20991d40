// seed #11, contract: the check (credits >= 0) added by 0016 is validated. No audit check covers
// a negative legacy balance, so the migration says plainly what a person has to decide.
import type { Migration } from '../db/migrations.js';
import { requireNoViolations } from './support/preconditions.js';

const migration: Migration = {
  description: 'accounts: check (credits >= 0) validated (seed #11)',
  phase: 'contract',
  locks: [
    { table: 'igny8_accounts', mode: 'SHARE UPDATE EXCLUSIVE', work: 'scan' },
  ],
  async up({ trx, note }) {
    await requireNoViolations(trx, {
      guarantee: 'check (credits >= 0)',
      countSql: `select count(*) as count from igny8_accounts where credits < 0`,
      what: 'accounts with a negative credit balance',
      one: 'account with a negative credit balance',
      resolve:
        'no repair exists: list them with `select slug, credits from igny8_accounts where credits < 0`, then bring ' +
        'each to zero with `igny8 grant-credits --account SLUG --amount N --reason TEXT` (a ledger row records it)',
    });
    await trx.raw(`alter table igny8_accounts validate constraint igny8_accounts_credits_non_negative`);
    note('credit balances can no longer go below zero');
  },
  // A validated constraint cannot be made NOT VALID again; it stays, and 0016's down drops it.
  async down({ note }) {
    note('the check stays validated: it holds for every row, and reverting 0016 drops it');
  },
};

export default migration;
