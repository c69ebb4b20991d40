// seed #4: a sector's industry sector must belong to its site's industry (the rule Django
// enforced only in Sector.save()). Sites without an industry are site-industry-null's.
import { missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const sectorIndustryMismatch: Check = {
  id: 'sector-industry-mismatch',
  severity: 'error',
  title: "sectors whose industry sector belongs to another industry than their site's",
  remedy: 'no repair: a person moves the sector or changes the site industry',
  repairable: false,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_sectors', 'igny8_sites', 'igny8_industry_sectors', accounts);
    if (missing) return missing;
    const owner = schema.accountColumn('igny8_sectors');
    return runFindings(ctx, {
      sql: `select 'sector:' || se.id as key, (select a.slug from ${accounts} a where a.id = se.${owner}) as account, se.id as sort,
                   se.slug as sector, si.slug as site, si_ind.slug as site_industry, sec_ind.slug as sector_industry
              from igny8_sectors se
              join igny8_sites si on si.id = se.site_id
              join igny8_industry_sectors isec on isec.id = se.industry_sector_id
              join igny8_industries si_ind on si_ind.id = si.industry_id
              join igny8_industries sec_ind on sec_ind.id = isec.industry_id
             where isec.industry_id <> si.industry_id${scopeTo(ctx, `se.${owner}`)}`,
    });
  },
};
