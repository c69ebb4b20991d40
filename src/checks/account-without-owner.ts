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
    // Two narrow questions instead of counting every account's users: accounts no owner-role
    // user points at (an anti-join), and legacy owner_ids naming another account's user. An
    // account in both is reported once, as the first.
    const foreignOwner = hasOwnerId
      ? `union all
         select a.id, 2 as rank, 'owner_id names a user of another account' as problem
           from ${accounts} a join igny8_users n on n.id = a.owner_id
          where n.${member} <> a.id${scopeTo(ctx, 'a.id')}`
      : '';
    return runFindings(ctx, {
      sql: `select 'account:' || x.id as key, a.slug as account, x.id as sort, x.problem,
                   (select count(*) from igny8_users u where u.${member} = x.id) as users${hasOwnerId ? ', a.owner_id' : ''}
              from (select distinct on (f.id) f.id, f.problem
                      from (select a.id, 1 as rank, 'no user with role owner' as problem
                              from ${accounts} a
                             where not exists (select 1 from igny8_users u where u.${member} = a.id and u.role = 'owner')
                                   ${scopeTo(ctx, 'a.id')}
                            ${foreignOwner}) f
                     order by f.id, f.rank) x
              cross join lateral (select slug${hasOwnerId ? ', owner_id' : ''} from ${accounts} where id = x.id) a`,
    });
  },
};
