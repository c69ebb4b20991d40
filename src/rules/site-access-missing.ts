// seed #10: site access rows were never created, so granular permissions were empty. Every
// site needs an access row for each owner of its account, as creating a site now grants it;
// migration 0014 backfills what is left.
//
// Repair: an access row for each owner the site's finding names (`_owner_ids`).
import { insertLogged } from '../repairs/log.js';
import { missingTables, scopeTo, withinIds } from './sql.js';
import type { Rule } from './types.js';

const SITES = 'igny8_sites';
const USERS = 'igny8_users';
const ACCESS = 'igny8_site_user_access';

export const siteAccessMissing: Rule = {
  id: 'site-access-missing',
  severity: 'warning',
  scope: 'account',
  title: 'sites the owner has no access row for',
  remedy: 'igny8 repair site-access-missing: backfill the owner access rows',
  verdict(shape) {
    return missingTables(shape, SITES, USERS, ACCESS, shape.schema.accountsTable);
  },
  findings(shape, within) {
    const { schema } = shape;
    const siteAccountColumn = schema.accountColumn(SITES);
    const batch = withinIds('s.id', within);
    return {
      sql: `select 'site:' || m.id as key, m.id as target,
                   (select a.slug from ${schema.accountsTable} a where a.id = m.account_id) as account,
                   m.id as sort, m.slug as site, m.owners_without_access,
                   m.account_id as _account_id, m.owner_ids as _owner_ids
              from (select s.id, s.${siteAccountColumn} as account_id, s.slug,
                           string_agg(u.email, ', ' order by u.id) as owners_without_access,
                           array_agg(u.id order by u.id) as owner_ids
                      from ${SITES} s
                      join ${USERS} u on u.${schema.accountColumn(USERS)} = s.${siteAccountColumn} and u.role = 'owner'
                     where not exists (select 1 from ${ACCESS} x where x.site_id = s.id and x.user_id = u.id)
                           ${scopeTo(shape, `s.${siteAccountColumn}`)}${scopeTo(shape, `u.${schema.accountColumn(USERS)}`)}${batch.sql}
                     group by s.id, s.${siteAccountColumn}, s.slug) m`,
      bindings: batch.bindings,
    };
  },
  repair: {
    action: "grant each owner of the site's account access to the site",
    table: () => SITES,
    change: (row) => `access for ${String(row.owners_without_access)}`,
    async apply(ctx, keys) {
      const query = siteAccessMissing.findings(ctx.shape, keys);
      const withAccount = ctx.shape.schema.hasColumn(ACCESS, 'account_id');
      const written = await insertLogged(
        ctx,
        ACCESS,
        `user_id, site_id, granted_by_id, granted_at${withAccount ? ', account_id' : ''}`,
        `select o.user_id, f.target, null, now()${withAccount ? ', f._account_id' : ''}
           from (${query.sql}) f cross join unnest(f._owner_ids) as o(user_id)`,
        query.bindings,
      );
      return { [ACCESS]: written };
    },
  },
};
