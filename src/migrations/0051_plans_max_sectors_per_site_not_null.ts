// seed #7, contract: every plan states its sectors-per-site limit. A plan the legacy application
// wrote with a NULL limit since expand gets the explicit 5 it meant, archived as 0005 archives.
import type { Migration } from '../db/migrations.js';
import { archiveLegacyValues, forgetLegacyValues, plural, setNotNull } from './support/ddl.js';

const NAME = '0051_plans_max_sectors_per_site_not_null';

const migration: Migration = {
  description: 'plans: max_sectors_per_site not null (seed #7)',
  phase: 'contract',
  locks: [
    { table: 'igny8_plans', mode: 'ACCESS EXCLUSIVE', work: 'scan', bounded: 'the plans catalog: tens of rows' },
    { table: 'igny8_legacy_values', mode: 'ROW EXCLUSIVE', work: 'write' },
  ],
  async up({ trx, note }) {
    const archived = await archiveLegacyValues(
      trx,
      NAME,
      'igny8_plans',
      `select id, jsonb_build_object('max_industries', null), 'NULL meant the default of 5 sectors per site'
         from igny8_plans where max_sectors_per_site is null`,
    );
    await trx.raw(`update igny8_plans set max_sectors_per_site = 5 where max_sectors_per_site is null`);
    await setNotNull(trx, 'igny8_plans', 'max_sectors_per_site');
    note(`every plan states its sectors-per-site limit${archived > 0 ? ` (${plural(archived, 'plan')} written with NULL since expand set to 5)` : ''}`);
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_plans alter column max_sectors_per_site drop not null`);
    await trx.raw(
      `update igny8_plans p set max_sectors_per_site = null
         from igny8_legacy_values v
        where v.migration = ? and v.table_name = 'igny8_plans' and v.row_id = p.id and p.max_sectors_per_site = 5`,
      [NAME],
    );
    await forgetLegacyValues(trx, NAME);
  },
};

export default migration;
