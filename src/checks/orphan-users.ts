// seed #3: registration created the user before the account, so a failure in between left
// users without an account. On the target, `users.account_id not null` makes them impossible.
import { enforced, missingTables, notNullConstraint, runFindings } from './query.js';
import type { Check } from './types.js';

export const orphanUsers: Check = {
  id: 'orphan-users',
  severity: 'error',
  title: 'users without an account',
  remedy: 'igny8 repair orphan-users: attach to the account whose owner_id names them, else a recovery account on the free plan',
  repairable: true,
  async run(ctx) {
    const { schema } = ctx;
    const missing = missingTables(ctx, 'igny8_users', schema.accountsTable);
    if (missing) return missing;
    const account = schema.accountColumn('igny8_users');
    const guaranteed = notNullConstraint(ctx, 'igny8_users', account);
    if (guaranteed) return enforced(guaranteed);
    const accounts = schema.accountsTable;
    // Which account claims the user (legacy owner_id), so the sample says where it belongs.
    const claimedBy = schema.hasColumn(accounts, 'owner_id')
      ? `left join lateral (select a.id, a.slug from ${accounts} a where a.owner_id = u.id order by a.id limit 1) a on true`
      : `left join (select null::bigint as id, null::text as slug) a on true`;
    const scope = ctx.scope.accountId === undefined ? '' : ` and a.id = ${Number(ctx.scope.accountId)}`;
    return runFindings(ctx, {
      sql: `select 'user:' || u.id as key, a.slug as account, u.id as sort,
                   u.id as user_id, u.email, u.role, cast(u.date_joined as date)::text as joined
              from igny8_users u ${claimedBy}
             where u.${account} is null${scope}`,
    });
  },
};
