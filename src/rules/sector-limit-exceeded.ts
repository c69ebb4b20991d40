// seed #7: the plan's sectors-per-site limit (legacy max_industries, NULL = 5; 0 = unlimited),
// defined once in src/domain/limits.ts for create-sector and this rule alike.
import { exceedsLimitSql, sectorLimitSql } from '../domain/limits.js';
import { missingTables, scopeTo } from './sql.js';
import type { Rule } from './types.js';

export const sectorLimitExceeded: Rule = {
  id: 'sector-limit-exceeded',
  severity: 'warning',
  scope: 'account',
  title: "sites with more sectors than their plan's max_sectors_per_site",
  remedy: 'no repair: a person removes sectors or moves the account to a larger plan',
  verdict(shape) {
    return missingTables(shape, 'igny8_sectors', 'igny8_sites', 'igny8_plans', shape.schema.accountsTable);
  },
  findings(shape) {
    const { schema } = shape;
    const accountColumn = schema.accountColumn('igny8_sites');
    const limit = sectorLimitSql(schema, 'p');
    // Under a scope, only the sectors of its sites are counted (through the site index).
    const scope = scopeTo(shape, accountColumn);
    const sitesInScope = scope ? ` where site_id in (select id from igny8_sites where true${scope})` : '';
    return {
      sql: `select 'site:' || s.id as key, null::bigint as target, a.slug as account, s.id as sort,
                   s.slug as site, p.slug as plan, c.sectors, ${limit} as max_sectors_per_site
              -- Only sites above the smallest limit of any plan can break theirs: the rest never
              -- reach the joins.
              from (select site_id, count(*) as sectors from igny8_sectors${sitesInScope} group by site_id
                    having count(*) > (select min(${limit}) from igny8_plans p)) c
              join igny8_sites s on s.id = c.site_id
              join ${schema.accountsTable} a on a.id = s.${accountColumn}
              join igny8_plans p on p.id = a.plan_id
             where ${exceedsLimitSql('c.sectors', limit)}${scopeTo(shape, 'a.id')}`,
      // In the site index's order: the count needs no column but site_id, so it is read from the
      // index alone, sequentially, whatever order the sectors arrived in. The planner, which
      // expects far fewer sites than there are, would hash them instead: a random memory access
      // per sector into a table of every site, five times slower on sectors in arrival order
      // (bench/RESULTS.md, "Sectors counted per site from the index").
      settings: { enable_hashagg: 'off' },
    };
  },
};
