// seed #7: a plan's NULL sectors-per-site limit meant 5. Written once for the two migrations
// that carry it: 0005 at expand, and 0051 at contract for plans the legacy application wrote
// with NULL since. Each archives the plans it changes under its own name, so its down migration
// puts back exactly those.
import type { Knex } from 'knex';
import { archiveLegacyValues, forgetLegacyValues } from './ddl.js';

/** Sets every NULL limit to the explicit 5, archived under `migration`; returns how many plans. */
export async function makeSectorLimitExplicit(trx: Knex.Transaction, migration: string): Promise<number> {
  const archived = await archiveLegacyValues(
    trx,
    migration,
    'igny8_plans',
    `select id, jsonb_build_object('max_industries', null), 'NULL meant the default of 5 sectors per site'
       from igny8_plans where max_sectors_per_site is null`,
  );
  await trx.raw(`update igny8_plans set max_sectors_per_site = 5 where max_sectors_per_site is null`);
  return archived;
}

/** Puts NULL back on the plans `migration` archived (those still at 5) and forgets the archive. */
export async function restoreNullSectorLimits(trx: Knex.Transaction, migration: string): Promise<void> {
  await trx.raw(
    `update igny8_plans p set max_sectors_per_site = null
       from igny8_legacy_values v
      where v.migration = ? and v.table_name = 'igny8_plans' and v.row_id = p.id and p.max_sectors_per_site = 5`,
    [migration],
  );
  await forgetLegacyValues(trx, migration);
}
