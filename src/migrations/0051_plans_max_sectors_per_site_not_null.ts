// seed #7, contract: every plan states its sectors-per-site limit. A plan the legacy application
// wrote with a NULL limit since expand gets the explicit 5 it meant, archived as 0005 archives.
import type { Migration } from '../db/migrations.js';
import { plural, setNotNull } from './support/ddl.js';
import { makeSectorLimitExplicit, restoreNullSectorLimits } from './support/sector-limit.js';

const NAME = '0051_plans_max_sectors_per_site_not_null';

const migration: Migration = {
  description: 'plans: max_sectors_per_site not null (seed #7)',
  phase: 'contract',
  locks: [
    { table: 'igny8_plans', mode: 'ACCESS EXCLUSIVE', work: 'scan', bounded: 'the plans catalog: tens of rows' },
    { table: 'igny8_legacy_values', mode: 'ROW EXCLUSIVE', work: 'write' },
  ],
  async up({ trx, note }) {
    const archived = await makeSectorLimitExplicit(trx, NAME);
    await setNotNull(trx, 'igny8_plans', 'max_sectors_per_site');
    note(`every plan states its sectors-per-site limit${archived > 0 ? ` (${plural(archived, 'plan')} written with NULL since expand set to 5)` : ''}`);
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_plans alter column max_sectors_per_site drop not null`);
    await restoreNullSectorLimits(trx, NAME);
  },
};

export default migration;
