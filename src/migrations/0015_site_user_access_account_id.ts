// Every tenant table carries account_id not null, so it can be distributed by account, and an
// access row can be tied to its account's site and user by composite keys (seed #10).
import type { Migration } from '../db/migrations.js';
import { addForeignKey, plural, setNotNull, withIndexesRebuilt, writeCount } from './support/ddl.js';

const migration: Migration = {
  description: "site access: account_id not null, from the site's account",
  async up({ trx, note }) {
    await trx.raw(`alter table igny8_site_user_access add column account_id bigint null`);
    const filled = await withIndexesRebuilt(trx, 'igny8_site_user_access', () =>
      writeCount(trx, `update igny8_site_user_access x set account_id = s.account_id from igny8_sites s where s.id = x.site_id`),
      { constraints: true },
    );
    await setNotNull(trx, 'igny8_site_user_access', 'account_id');
    await addForeignKey(trx, {
      table: 'igny8_site_user_access',
      name: 'igny8_site_user_access_account_id_fkey',
      columns: ['account_id'],
      references: 'igny8_accounts',
      referencedColumns: ['id'],
    });
    await trx.raw(`create index igny8_site_user_access_account_id_idx on igny8_site_user_access (account_id)`);
    note(`${plural(filled, 'access row')} backfilled with the site's account`);
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_site_user_access drop column account_id`);
  },
};

export default migration;
