// seed #3: at most one owner per account (the target's partial unique index). The owner the
// legacy owner_id names stays owner, else the earliest; the others become admins.
import { updateLogged } from './log.js';
import { ids, inScope, names, rows, within } from './shape.js';
import type { Repair, RepairContext } from './types.js';

const USERS = 'igny8_users';

/** Each target account's owner-role users that stop being owners. */
function demotedSql(ctx: RepairContext): string {
  const { accounts, acct } = names(ctx.schema);
  const col = acct(USERS);
  const named = ctx.schema.hasColumn(accounts, 'owner_id') ? '(u.id = a.owner_id) desc,' : '';
  return `select o.id, o.${col} as account_id from ${USERS} o
            join (select distinct on (a.id) a.id as account_id, u.id as keep
                    from ${accounts} a join ${USERS} u on u.${col} = a.id and u.role = 'owner'
                   where a.id = any(?::bigint[])
                   order by a.id, ${named} u.date_joined, u.id) k on k.account_id = o.${col}
           where o.role = 'owner' and o.id <> k.keep`;
}

export const multipleOwners: Repair = {
  checkId: 'multiple-owners',
  action: 'keep one owner (the one owner_id names, else the earliest); the others become admins',
  table: (schema) => schema.accountsTable,
  async targets(ctx, keys) {
    const col = names(ctx.schema).acct(USERS);
    const filter = within(`u.${col}`, keys);
    return ids(
      ctx,
      `select u.${col} as id from ${USERS} u
        where u.role = 'owner' and u.${col} is not null${inScope(ctx, `u.${col}`)}${filter.sql}
        group by u.${col} having count(*) > 1 order by 1`,
      filter.bindings,
    );
  },
  async examples(ctx, keys) {
    const { accounts } = names(ctx.schema);
    const found = await rows<{ slug: string; id: number; email: string }>(
      ctx,
      `select a.slug, d.id, u.email from (${demotedSql(ctx)}) d
         join ${accounts} a on a.id = d.account_id join ${USERS} u on u.id = d.id order by a.id, d.id`,
      [keys],
    );
    return found.map((row) => ({ key: `user:${row.id}`, account: row.slug, user: row.email, change: 'owner → admin' }));
  },
  async apply(ctx, keys) {
    const written = await updateLogged(ctx, USERS, `role = 'admin'`, `select d.id from (${demotedSql(ctx)}) d`, [keys]);
    return { [USERS]: written };
  },
};
