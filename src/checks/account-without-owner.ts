// seed #3: the owner is the user with role 'owner'. Legacy accounts also name an owner_id,
// which may point at a user of another account; both leave the account without an owner.
import { missingTables, runFindings, scopeTo } from './query.js';
import type { Check } from './types.js';

export const accountWithoutOwner: Check = {
  id: 'account-without-owner',
  severity: 'error',
  title: "accounts with no owner user, or an owner_id naming another account's user",
  remedy: 'igny8 repair account-without-owner: promote the named user if a member, else the earliest admin, else the earliest user',
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const accounts = schema.accountsTable;
    const missing = missingTables(ctx, 'igny8_users', accounts);
    if (missing) return missing;
    const member = schema.accountColumn('igny8_users');
    const hasOwnerId = schema.hasColumn(accounts, 'owner_id');
    const foreignOwner = hasOwnerId ? `(n.${member} is not null and n.${member} <> a.id)` : 'false';
    return runFindings(ctx, {
      sql: `select 'account:' || a.id as key, a.slug as account, a.id as sort,
                   case when coalesce(m.owners, 0) = 0 then 'no user with role owner'
                        else 'owner_id names a user of another account' end as problem,
                   coalesce(m.users, 0) as users${hasOwnerId ? ', a.owner_id' : ''}
              from ${accounts} a
              left join (select ${member} as account_id, count(*) as users,
                                count(*) filter (where role = 'owner') as owners
                           from igny8_users where ${member} is not null group by ${member}) m on m.account_id = a.id
              ${hasOwnerId ? 'left join igny8_users n on n.id = a.owner_id' : ''}
             where (coalesce(m.owners, 0) = 0 or ${foreignOwner})${scopeTo(ctx, 'a.id')}`,
    });
  },
};
