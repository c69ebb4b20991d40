// seed #10: site access rows were never created, so granular permissions were empty. Every
// site needs an access row for its account's owner.
import { missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const siteAccessMissing: Check = {
  id: 'site-access-missing',
  severity: 'warning',
  title: 'sites the owner has no access row for',
  remedy: 'igny8 repair site-access-missing: backfill the owner access rows',
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_sites', 'igny8_users', 'igny8_site_user_access', accounts);
    if (missing) return missing;
    const owner = schema.accountColumn('igny8_sites');
    const member = schema.accountColumn('igny8_users');
    return runFindings(ctx, {
      sql: `select 'site:' || m.id as key, (select a.slug from ${accounts} a where a.id = m.account_id) as account,
                   m.id as sort, m.slug as site, m.owners_without_access
              from (select s.id, s.${owner} as account_id, s.slug, string_agg(u.email, ', ' order by u.id) as owners_without_access
                      from igny8_sites s
                      join igny8_users u on u.${member} = s.${owner} and u.role = 'owner'
                     where not exists (select 1 from igny8_site_user_access x where x.site_id = s.id and x.user_id = u.id)
                           ${scopeTo(ctx, `s.${owner}`)}
                     group by s.id, s.${owner}, s.slug) m`,
    });
  },
};
