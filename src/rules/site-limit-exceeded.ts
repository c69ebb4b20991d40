// The plan's max_sites and max_users, defined once in src/domain/limits.ts for create-site,
// registration and this rule alike.
import { exceedsLimitSql, siteLimitSql, userLimitSql } from '../domain/limits.js';
import { missingTables, scopeTo } from './sql.js';
import type { Rule } from './types.js';

export const siteLimitExceeded: Rule = {
  id: 'site-limit-exceeded',
  severity: 'warning',
  scope: 'account',
  title: "accounts over their plan's max_sites or max_users",
  remedy: 'no repair: a person removes sites or users, or moves the account to a larger plan',
  verdict(shape) {
    return missingTables(shape, 'igny8_sites', 'igny8_users', 'igny8_plans', shape.schema.accountsTable);
  },
  findings(shape) {
    const { schema } = shape;
    const siteAccountColumn = schema.accountColumn('igny8_sites');
    const userAccountColumn = schema.accountColumn('igny8_users');
    const sites = exceedsLimitSql('coalesce(st.sites, 0)', siteLimitSql('p'));
    const users = exceedsLimitSql('coalesce(us.users, 0)', userLimitSql('p'));
    return {
      sql: `select 'account:' || a.id as key, null::bigint as target, a.slug as account, a.id as sort, p.slug as plan,
                   coalesce(st.sites, 0) as sites, ${siteLimitSql('p')} as max_sites,
                   coalesce(us.users, 0) as users, ${userLimitSql('p')} as max_users
              from ${schema.accountsTable} a
              join igny8_plans p on p.id = a.plan_id
              -- Only accounts above the smallest limit of any plan can break theirs; the others
              -- drop out before the join.
              left join (select ${siteAccountColumn} as account_id, count(*) as sites from igny8_sites where true${scopeTo(shape, siteAccountColumn)} group by ${siteAccountColumn}
                          having count(*) > (select min(${siteLimitSql('p')}) from igny8_plans p)) st
                on st.account_id = a.id
              left join (select ${userAccountColumn} as account_id, count(*) as users from igny8_users
                          where ${userAccountColumn} is not null${scopeTo(shape, userAccountColumn)} group by ${userAccountColumn}
                         having count(*) > (select min(${userLimitSql('p')}) from igny8_plans p)) us
                on us.account_id = a.id
             where (${sites} or ${users})${scopeTo(shape, 'a.id')}`,
    };
  },
};
