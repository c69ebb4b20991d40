// seed #11: a balance never goes below zero. Expand adds the check NOT VALID (a brief lock, no
// scan): from then on no write may take a balance below zero. Contract (0056) validates it
// once no legacy balance is negative; no audit check covers those, so it says plainly what a
// person has to decide.
import type { Migration } from '../db/migrations.js';

const migration: Migration = {
  description: 'accounts: check (credits >= 0) NOT VALID: new writes are checked (seed #11)',
  phase: 'expand',
  locks: [
    { table: 'igny8_accounts', mode: 'ACCESS EXCLUSIVE' },
  ],
  async up({ trx, note }) {
    await trx.raw(`alter table igny8_accounts add constraint igny8_accounts_credits_non_negative check (credits >= 0) not valid`);
    note('no write can take a credit balance below zero any more (older rows are validated at contract)');
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_accounts drop constraint igny8_accounts_credits_non_negative`);
  },
};

export default migration;
