// seed #11: a balance never goes below zero. No audit check covers a negative legacy balance,
// so the migration says plainly what a person has to decide.
import type { Migration } from '../db/migrations.js';
import { execStatements } from '../db/transaction.js';
import { requireNoViolations } from './support/preconditions.js';

const migration: Migration = {
  description: 'accounts: check (credits >= 0) (seed #11)',
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
    await execStatements(trx, [
      `alter table igny8_accounts add constraint igny8_accounts_credits_non_negative check (credits >= 0) not valid`,
      `alter table igny8_accounts validate constraint igny8_accounts_credits_non_negative`,
    ]);
    note('credit balances can no longer go below zero');
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_accounts drop constraint igny8_accounts_credits_non_negative`);
  },
};

export default migration;
