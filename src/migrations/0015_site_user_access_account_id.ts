// Every tenant table carries account_id not null, so it can be distributed by account, and an
// access row can be tied to its account's site and user by composite keys (seed #10).
// Expand: the column, a trigger giving an access row inserted without an account its site's
// account, the foreign key NOT VALID (all brief), then the backfill in batches. Contract (0055)
// sets NOT NULL, validates the key, builds the index and drops the trigger.
import type { Migration } from '../db/migrations.js';
import { ACCESS_ACCOUNT, createFillTrigger, dropFillTrigger } from './support/expand-triggers.js';

const migration: Migration = {
  description: "site access: account_id, from the site's account; filled on insert until contract",
  phase: 'expand',
  locks: [
    { table: 'igny8_site_user_access', mode: 'ACCESS EXCLUSIVE' },
    { table: 'igny8_accounts', mode: 'SHARE ROW EXCLUSIVE' },
  ],
  async up({ trx }) {
    await trx.raw(`alter table igny8_site_user_access add column account_id bigint null`);
    await createFillTrigger(trx, ACCESS_ACCOUNT);
    await trx.raw(
      `alter table igny8_site_user_access add constraint igny8_site_user_access_account_id_fkey
         foreign key (account_id) references igny8_accounts (id) not valid`,
    );
  },
  backfills: [
    {
      table: 'igny8_site_user_access',
      remaining: `select count(*) as count from igny8_site_user_access where account_id is null`,
      batch: `update igny8_site_user_access x set account_id = s.account_id from igny8_sites s
               where s.id = x.site_id and x.account_id is null and x.id >= ? and x.id < ?`,
    },
  ],
  async down({ trx }) {
    await dropFillTrigger(trx, ACCESS_ACCOUNT);
    await trx.raw(`alter table igny8_site_user_access drop column account_id`);
  },
};

export default migration;
