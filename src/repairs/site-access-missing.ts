// seed #10: site access rows were never created. Every owner of a site's account gets one
// for that site, as creating the site now grants it.
import { insertLogged } from './log.js';
import { ids, inScope, names, rows, within } from './shape.js';
import type { Repair, RepairContext } from './types.js';

const SITES = 'igny8_sites';
const ACCESS = 'igny8_site_user_access';

/** (site, owner) pairs with no access row. */
function missingSql(ctx: RepairContext): string {
  const { acct } = names(ctx.schema);
  const siteCol = acct(SITES);
  return `select s.id as site_id, u.id as user_id, s.${siteCol} as account_id
            from ${SITES} s join igny8_users u on u.${acct('igny8_users')} = s.${siteCol} and u.role = 'owner'
           where not exists (select 1 from ${ACCESS} x where x.site_id = s.id and x.user_id = u.id)${inScope(ctx, `s.${siteCol}`)}`;
}

export const siteAccessMissing: Repair = {
  checkId: 'site-access-missing',
  action: "grant each owner of the site's account access to the site",
  table: () => SITES,
  async targets(ctx, keys) {
    const filter = within('m.site_id', keys);
    return ids(
      ctx,
      `select distinct m.site_id as id from (${missingSql(ctx)}) m where true${filter.sql} order by 1`,
      filter.bindings,
    );
  },
  async examples(ctx, keys) {
    const { accounts } = names(ctx.schema);
    const found = await rows<{ site_id: number; site: string; account: string; email: string }>(
      ctx,
      `select m.site_id, s.slug as site, a.slug as account, u.email
         from (${missingSql(ctx)}) m join ${SITES} s on s.id = m.site_id
         join ${accounts} a on a.id = m.account_id join igny8_users u on u.id = m.user_id
        where m.site_id = any(?::bigint[]) order by m.site_id, m.user_id`,
      [keys],
    );
    return found.map((row) => ({ key: `site:${row.site_id}`, account: row.account, site: row.site, change: `access for ${row.email}` }));
  },
  async apply(ctx, keys) {
    const withAccount = ctx.schema.hasColumn(ACCESS, 'account_id');
    const written = await insertLogged(
      ctx,
      ACCESS,
      `user_id, site_id, granted_by_id, granted_at${withAccount ? ', account_id' : ''}`,
      `select m.user_id, m.site_id, null, now()${withAccount ? ', m.account_id' : ''}
         from (${missingSql(ctx)}) m where m.site_id = any(?::bigint[])`,
      [keys],
    );
    return { [ACCESS]: written };
  },
};
