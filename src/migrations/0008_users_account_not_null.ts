// seed #3: a user without an account cannot exist. Orphans are repaired first (attached to the
// account whose owner_id names them, else a recovery account): the migration only refuses.
import type { Migration } from '../db/migrations.js';
import { orphanUsers } from '../rules/orphan-users.js';
import { setNotNull } from './support/ddl.js';
import { requireRuleClean } from './support/preconditions.js';

const migration: Migration = {
  description: 'users: account_id not null (seed #3)',
  phase: 'contract',
  locks: [
    { table: 'igny8_users', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
  ],
  async up({ trx, note }) {
    await requireRuleClean(trx, orphanUsers, {
      guarantee: 'users.account_id not null',
      what: 'users without an account',
      one: 'user without an account',
      repairHint: 'it attaches each to the account whose owner_id names it, otherwise to a recovery account on the free plan',
    });
    await setNotNull(trx, 'igny8_users', 'account_id');
    note('every user belongs to an account');
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_users alter column account_id drop not null`);
  },
};

export default migration;
