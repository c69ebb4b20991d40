// seed #4: a sector's industry sector must belong to its site's industry (the rule Django
// enforced only in Sector.save()). Sites without an industry are site-industry-null's.
import { missingTables, scopeTo } from './sql.js';
import type { Rule } from './types.js';

export const sectorIndustryMismatch: Rule = {
  id: 'sector-industry-mismatch',
  severity: 'error',
  scope: 'account',
  title: "sectors whose industry sector belongs to another industry than their site's",
  remedy: 'no repair: a person moves the sector or changes the site industry',
  verdict(shape) {
    return missingTables(shape, 'igny8_sectors', 'igny8_sites', 'igny8_industry_sectors', shape.schema.accountsTable);
  },
  findings(shape) {
    const { schema } = shape;
    const accountColumn = schema.accountColumn('igny8_sectors');
    // Where a composite key makes the site's account the sector's, the scope reaches the
    // sites too, so a few accounts' rows are read through the account index on both sides.
    const sameAccount = shape.constraints.foreignKey('igny8_sectors', [accountColumn, 'site_id'], 'igny8_sites') !== undefined;
    return {
      sql: `select 'sector:' || se.id as key, null::bigint as target,
                   (select a.slug from ${schema.accountsTable} a where a.id = se.${accountColumn}) as account, se.id as sort,
                   se.slug as sector, si.slug as site, si_ind.slug as site_industry, sec_ind.slug as sector_industry
              from igny8_sectors se
              join igny8_sites si on si.id = se.site_id
              join igny8_industry_sectors isec on isec.id = se.industry_sector_id
              join igny8_industries si_ind on si_ind.id = si.industry_id
              join igny8_industries sec_ind on sec_ind.id = isec.industry_id
             where isec.industry_id <> si.industry_id${scopeTo(shape, `se.${accountColumn}`)}${sameAccount ? scopeTo(shape, `si.${accountColumn}`) : ''}`,
    };
  },
};
