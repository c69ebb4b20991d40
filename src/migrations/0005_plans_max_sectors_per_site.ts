// seed #7: max_industries was always the sectors-per-site limit, with NULL meaning 5. The
// column is named for what it limits and the implicit 5 becomes explicit; 0 now means
// unlimited. The plans that were NULL are archived so the down migration restores them exactly.
// Expand: the rename and the explicit 5 (the legacy application reads max_industries through its
// view, where 5 means what NULL meant); NOT NULL waits for contract (0051).
import type { Migration } from '../db/migrations.js';
import { plural } from './support/ddl.js';
import { makeSectorLimitExplicit, restoreNullSectorLimits } from './support/sector-limit.js';

const NAME = '0005_plans_max_sectors_per_site';

const migration: Migration = {
  description: 'plans: max_industries → max_sectors_per_site (legacy NULL → 5; 0 = unlimited) (seed #7)',
  phase: 'expand',
  locks: [
    { table: 'igny8_plans', mode: 'ACCESS EXCLUSIVE', work: 'write', bounded: 'the plans catalog: tens of rows' },
    { table: 'igny8_legacy_values', mode: 'ROW EXCLUSIVE', work: 'write' },
  ],
  async up({ trx, note }) {
    await trx.raw(`alter table igny8_plans rename column max_industries to max_sectors_per_site`);
    const archived = await makeSectorLimitExplicit(trx, NAME);
    note(`max_industries renamed to max_sectors_per_site; ${plural(archived, 'plan')} with NULL set to the explicit 5`);
  },
  async down({ trx }) {
    await restoreNullSectorLimits(trx, NAME);
    await trx.raw(`alter table igny8_plans rename column max_sectors_per_site to max_industries`);
  },
};

export default migration;
