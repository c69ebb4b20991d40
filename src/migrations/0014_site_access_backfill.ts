// seed #10: access rows were never created. Every site's owner gets one (the creator of a
// legacy site is not recorded; new sites grant creator and owner when they are made).
import type { Migration } from '../db/migrations.js';
import { plural, writeCount } from './support/ddl.js';

const migration: Migration = {
  description: "site access backfilled for each site's owner (seed #10)",
  // After 0009 (contract) has made the owner_id user the owner, so the owner it grants is the final one.
  phase: 'contract',
  locks: [
    { table: 'igny8_site_user_access', mode: 'ROW EXCLUSIVE', work: 'write' },
    { table: 'igny8_users', mode: 'ROW SHARE' },
    { table: 'igny8_sites', mode: 'ROW SHARE' },
    { table: 'igny8_accounts', mode: 'ROW SHARE' },
  ],
  async up({ trx, note }) {
    const granted = await writeCount(
      trx,
      `insert into igny8_site_user_access (user_id, site_id, granted_by_id)
       select u.id, s.id, null
         from igny8_sites s join igny8_users u on u.account_id = s.account_id and u.role = 'owner'
        where not exists (select 1 from igny8_site_user_access x where x.user_id = u.id and x.site_id = s.id)
        order by s.id`,
    );
    note(`${plural(granted, 'access row')} created for site owners`);
  },
  // The rows are valid in the earlier shape too, and cannot be told apart from grants made
  // since: reverting keeps them.
  async down({ note }) {
    note('access rows granted to site owners are kept: they are valid in the earlier shape');
  },
};

export default migration;
