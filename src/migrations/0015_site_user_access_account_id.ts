// Every tenant table carries account_id not null, so it can be distributed by account, and an
// access row can be tied to its account's site and user by composite keys (seed #10).
// Expand: the column, the backfill, the foreign key NOT VALID, the index, and a trigger giving
// an access row inserted without an account its site's account. Contract (0055) sets NOT NULL,
// validates the key and drops the trigger.
import type { Migration } from '../db/migrations.js';
import { ACCESS_ACCOUNT, createFillTrigger, dropFillTrigger } from './support/expand-triggers.js';
import { plural, withIndexesRebuilt, writeCount } from './support/ddl.js';

const migration: Migration = {
  description: "site access: account_id, from the site's account; filled on insert until contract",
  phase: 'expand',
  async up({ trx, note }) {
    await trx.raw(`alter table igny8_site_user_access add column account_id bigint null`);
    await createFillTrigger(trx, ACCESS_ACCOUNT);
    const filled = await withIndexesRebuilt(trx, 'igny8_site_user_access', () =>
      writeCount(trx, `update igny8_site_user_access x set account_id = s.account_id from igny8_sites s where s.id = x.site_id`),
      { constraints: true },
    );
    await trx.raw(
      `alter table igny8_site_user_access add constraint igny8_site_user_access_account_id_fkey
         foreign key (account_id) references igny8_accounts (id) not valid`,
    );
    await trx.raw(`create index igny8_site_user_access_account_id_idx on igny8_site_user_access (account_id)`);
    note(`${plural(filled, 'access row')} backfilled with the site's account`);
  },
  async down({ trx }) {
    await dropFillTrigger(trx, ACCESS_ACCOUNT);
    await trx.raw(`alter table igny8_site_user_access drop column account_id`);
  },
};

export default migration;
