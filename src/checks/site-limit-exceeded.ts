// The plan's max_sites and max_users, defined once in src/domain/limits.ts for create-site,
// registration and this check alike.
import { exceedsLimitSql, siteLimitSql, userLimitSql } from '../domain/limits.js';
import { missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const siteLimitExceeded: Check = {
  id: 'site-limit-exceeded',
  severity: 'warning',
  title: "accounts over their plan's max_sites or max_users",
  remedy: 'no repair: a person removes sites or users, or moves the account to a larger plan',
  repairable: false,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_sites', 'igny8_users', 'igny8_plans', accounts);
    if (missing) return missing;
    const siteOwner = schema.accountColumn('igny8_sites');
    const member = schema.accountColumn('igny8_users');
    const sites = exceedsLimitSql('coalesce(st.sites, 0)', siteLimitSql('p'));
    const users = exceedsLimitSql('coalesce(us.users, 0)', userLimitSql('p'));
    return runFindings(ctx, {
      sql: `select 'account:' || a.id as key, a.slug as account, a.id as sort, p.slug as plan,
                   coalesce(st.sites, 0) as sites, ${siteLimitSql('p')} as max_sites,
                   coalesce(us.users, 0) as users, ${userLimitSql('p')} as max_users
              from ${accounts} a
              join igny8_plans p on p.id = a.plan_id
              -- Only accounts above the smallest limit of any plan can break theirs; the others
              -- drop out before the join.
              left join (select ${siteOwner} as account_id, count(*) as sites from igny8_sites group by ${siteOwner}
                          having count(*) > (select min(${siteLimitSql('p')}) from igny8_plans p)) st
                on st.account_id = a.id
              left join (select ${member} as account_id, count(*) as users from igny8_users
                          where ${member} is not null group by ${member}
                         having count(*) > (select min(${userLimitSql('p')}) from igny8_plans p)) us
                on us.account_id = a.id
             where (${sites} or ${users})${scopeTo(ctx, 'a.id')}`,
    });
  },
};
