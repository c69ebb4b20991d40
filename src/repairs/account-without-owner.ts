// seed #3: the owner is the user with role 'owner'. An account without one gets one: the user
// its legacy owner_id names when that user is a member, else its earliest admin, else its
// earliest user. Where owner_id names a user of another account it is pointed at the owner.
import { tally, updateLogged } from './log.js';
import { ids, inScope, names, rows, within } from './shape.js';
import type { Repair, RepairContext, RepairKey, TableCounts } from './types.js';

const USERS = 'igny8_users';

function hasOwnerId(ctx: RepairContext): boolean {
  return ctx.schema.hasColumn(ctx.schema.accountsTable, 'owner_id');
}

/** Accounts the check finds: no owner-role member, or owner_id naming another account's user. */
function findingSql(ctx: RepairContext): string {
  const { accounts, acct } = names(ctx.schema);
  const col = acct(USERS);
  const foreignOwner = hasOwnerId(ctx)
    ? ` or exists (select 1 from ${USERS} n where n.id = a.owner_id and n.${col} is distinct from a.id)`
    : '';
  return `select a.id from ${accounts} a
           where (not exists (select 1 from ${USERS} u where u.${col} = a.id and u.role = 'owner')${foreignOwner})${inScope(ctx, 'a.id')}`;
}

/** The user each account's owner will be, by the precedence above (an existing owner stays). */
function choiceSql(ctx: RepairContext): string {
  const { accounts, acct } = names(ctx.schema);
  const col = acct(USERS);
  const named = hasOwnerId(ctx) ? '(u.id = a.owner_id) desc,' : '';
  return `select distinct on (a.id) a.id as account_id, u.id as user_id
            from ${accounts} a join ${USERS} u on u.${col} = a.id
           where a.id = any(?::bigint[])
           order by a.id, (u.role = 'owner') desc, ${named} (u.role = 'admin') desc, u.date_joined, u.id`;
}

export const accountWithoutOwner: Repair = {
  checkId: 'account-without-owner',
  action: 'make one member the owner: the user owner_id names if a member, else the earliest admin, else the earliest user',
  table: (schema) => schema.accountsTable,
  async targets(ctx, keys) {
    const { acct } = names(ctx.schema);
    const filter = within('f.id', keys);
    // Accounts with no users at all have nobody to promote: they are left for a person.
    return ids(
      ctx,
      `select f.id from (${findingSql(ctx)}) f
        where exists (select 1 from ${USERS} u where u.${acct(USERS)} = f.id)${filter.sql} order by f.id`,
      filter.bindings,
    );
  },
  async examples(ctx, keys) {
    const { accounts } = names(ctx.schema);
    const found = await rows<{ id: number; slug: string; email: string; role: string }>(
      ctx,
      `select a.id, a.slug, u.email, u.role from (${choiceSql(ctx)}) c
         join ${accounts} a on a.id = c.account_id join ${USERS} u on u.id = c.user_id order by a.id`,
      [keys],
    );
    return found.map((row) => ({
      key: `account:${row.id}`,
      account: row.slug,
      owner: row.email,
      change: row.role === 'owner' ? 'owner_id points at the existing owner' : `${row.role} → owner`,
    }));
  },
  async leftOver(ctx) {
    const { acct } = names(ctx.schema);
    const [row] = await rows<{ count: number }>(
      ctx,
      `select count(*)::int as count from (${findingSql(ctx)}) f
        where not exists (select 1 from ${USERS} u where u.${acct(USERS)} = f.id)`,
    );
    return row.count > 0 ? { count: row.count, reason: 'accounts with no users at all: nobody to promote, a person decides' } : undefined;
  },
  async apply(ctx, keys: RepairKey[]) {
    const { accounts } = names(ctx.schema);
    const counts: TableCounts = {};
    tally(
      counts,
      USERS,
      await updateLogged(
        ctx,
        USERS,
        `role = 'owner'`,
        `select u.id from (${choiceSql(ctx)}) c join ${USERS} u on u.id = c.user_id where u.role <> 'owner'`,
        [keys],
      ),
    );
    if (hasOwnerId(ctx)) {
      tally(
        counts,
        accounts,
        await updateLogged(
          ctx,
          accounts,
          'owner_id = src.user_id, updated_at = now()',
          `select x.id, c.user_id from (${choiceSql(ctx)}) c join ${accounts} x on x.id = c.account_id
            where x.owner_id is distinct from c.user_id`,
          [keys],
        ),
      );
    }
    return counts;
  },
};
