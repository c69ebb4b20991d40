// Contract: every access row names its account, by a validated foreign key (seed #10).
import type { Migration } from '../db/migrations.js';
import { ACCESS_ACCOUNT, createFillTrigger, dropFillTrigger } from './support/expand-triggers.js';
import { plural, setNotNull, writeCount } from './support/ddl.js';

const migration: Migration = {
  description: 'site access: account_id not null and indexed, its foreign key validated',
  phase: 'contract',
  locks: [
    { table: 'igny8_site_user_access', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_accounts', mode: 'ROW SHARE' },
  ],
  async up({ trx, note }) {
    await dropFillTrigger(trx, ACCESS_ACCOUNT);
    const filled = await writeCount(
      trx,
      `update igny8_site_user_access x set account_id = s.account_id from igny8_sites s where s.id = x.site_id and x.account_id is null`,
    );
    await setNotNull(trx, 'igny8_site_user_access', 'account_id');
    await trx.raw(`alter table igny8_site_user_access validate constraint igny8_site_user_access_account_id_fkey`);
    await trx.raw(`create index igny8_site_user_access_account_id_idx on igny8_site_user_access (account_id)`);
    note(`every access row names its account${filled > 0 ? ` (${plural(filled, 'row')} without one given the site's)` : ''}`);
  },
  async down({ trx }) {
    await trx.raw(`drop index igny8_site_user_access_account_id_idx`);
    await trx.raw(`alter table igny8_site_user_access alter column account_id drop not null`);
    await createFillTrigger(trx, ACCESS_ACCOUNT);
  },
};

export default migration;
