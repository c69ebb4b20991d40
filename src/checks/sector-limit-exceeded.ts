// seed #7: the plan's sectors-per-site limit (legacy max_industries, NULL = 5; 0 = unlimited),
// defined once in src/domain/limits.ts for create-sector and this check alike.
import { exceedsLimitSql, sectorLimitSql } from '../domain/limits.js';
import { GROUP_IN_ORDER, missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const sectorLimitExceeded: Check = {
  id: 'sector-limit-exceeded',
  severity: 'warning',
  title: "sites with more sectors than their plan's max_sectors_per_site",
  remedy: 'no repair: a person removes sectors or moves the account to a larger plan',
  repairable: false,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_sectors', 'igny8_sites', 'igny8_plans', accounts);
    if (missing) return missing;
    const owner = schema.accountColumn('igny8_sites');
    const limit = sectorLimitSql(schema, 'p');
    return runFindings(ctx, {
      sql: `select 'site:' || s.id as key, a.slug as account, s.id as sort,
                   s.slug as site, p.slug as plan, c.sectors, ${limit} as max_sectors_per_site
              -- Only sites above the smallest limit of any plan can break theirs: the rest never
              -- reach the joins.
              from (select site_id, count(*) as sectors from igny8_sectors group by site_id
                    having count(*) > (select min(${limit}) from igny8_plans p)) c
              join igny8_sites s on s.id = c.site_id
              join ${accounts} a on a.id = s.${owner}
              join igny8_plans p on p.id = a.plan_id
             where ${exceedsLimitSql('c.sectors', limit)}${scopeTo(ctx, 'a.id')}`,
      settings: GROUP_IN_ORDER,
    });
  },
};
