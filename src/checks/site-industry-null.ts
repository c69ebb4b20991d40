// seed #4: a site without an industry can never get a sector. The target makes
// sites.industry_id not null; the migration refuses while NULLs remain.
import { enforced, missingTables, notNullConstraint, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const siteIndustryNull: Check = {
  id: 'site-industry-null',
  severity: 'error',
  title: 'sites without an industry',
  remedy: "igny8 repair site-industry-null: infer from the site's sectors when unambiguous, else --default-industry SLUG",
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_sites', 'igny8_sectors', accounts);
    if (missing) return missing;
    const guaranteed = notNullConstraint(ctx, 'igny8_sites', 'industry_id');
    if (guaranteed) return enforced(guaranteed);
    const owner = schema.accountColumn('igny8_sites');
    return runFindings(ctx, {
      sql: `select 'site:' || s.id as key, a.slug as account, s.id as sort,
                   s.slug as site, s.name,
                   (select count(*) from igny8_sectors se where se.site_id = s.id) as sectors
              from igny8_sites s join ${accounts} a on a.id = s.${owner}
             where s.industry_id is null${scopeTo(ctx, `s.${owner}`)}`,
    });
  },
};
