// seed #3: the owner is derived from roles, so at most one user per account may hold it.
// The target's partial unique index (account_id) where role = 'owner' guarantees that;
// migration 0009, which adds it, is gated by this rule.
//
// Repair: the owner the legacy owner_id names stays owner, else the earliest; the others
// become admins. The one who stays is part of the finding row, so the plan names them.
import { updateLogged } from '../repairs/log.js';
import { findingRows } from './finding.js';
import { groupInOrder, missingTables, scopeTo, withinIds } from './sql.js';
import type { FindingSql, Rule, Shape, TargetKey } from './types.js';

const USERS = 'igny8_users';

function findingSql(shape: Shape, within?: readonly TargetKey[]): FindingSql {
  const { schema } = shape;
  const accounts = schema.accountsTable;
  const accountColumn = schema.accountColumn(USERS);
  const named = schema.hasColumn(accounts, 'owner_id');
  const batch = withinIds(accountColumn, within);
  // Count owners per account first; the emails (and the account row) only for the few
  // accounts found, by index.
  return {
    sql: `select 'account:' || o.account_id as key, o.account_id as target, a.slug as account, o.account_id as sort, o.owners,
                 (select string_agg(u.email, ', ' order by u.id) from ${USERS} u
                   where u.${accountColumn} = o.account_id and u.role = 'owner') as emails,
                 k.id as _keep_id, k.email as _keep_email
            from (select ${accountColumn} as account_id, count(*) as owners
                    from ${USERS} where role = 'owner' and ${accountColumn} is not null${batch.sql}
                   group by ${accountColumn} having count(*) > 1) o
            cross join lateral (select slug${named ? ', owner_id' : ''} from ${accounts} where id = o.account_id) a
            cross join lateral (select u.id, u.email from ${USERS} u
                                 where u.${accountColumn} = o.account_id and u.role = 'owner'
                                 order by ${named ? '(u.id = a.owner_id) desc, ' : ''}u.date_joined, u.id limit 1) k
           where true${scopeTo(shape, 'o.account_id')}`,
    bindings: batch.bindings,
    settings: groupInOrder(shape, USERS, accountColumn),
  };
}

export const multipleOwners: Rule = {
  id: 'multiple-owners',
  severity: 'warning',
  scope: 'account',
  title: 'accounts with more than one owner',
  remedy: 'igny8 repair multiple-owners: keep one owner, the others become admin',
  verdict(shape) {
    const missing = missingTables(shape, USERS, shape.schema.accountsTable);
    if (missing) return missing;
    const accountColumn = shape.schema.accountColumn(USERS);
    const index = shape.constraints.uniqueIndex(
      USERS,
      (candidate) =>
        candidate.columns.length === 1 && candidate.columns[0] === accountColumn && /role.*'owner'/.test(candidate.predicate ?? ''),
    );
    return index ? { kind: 'enforced', by: `unique index ${index.name} (one owner per account)` } : undefined;
  },
  findings: findingSql,
  repair: {
    action: 'keep one owner (the one owner_id names, else the earliest); the others become admins',
    table: (schema) => schema.accountsTable,
    change: (row) => `${String(row._keep_email)} stays owner; the others become admin`,
    async apply(ctx, keys) {
      const accountColumn = ctx.shape.schema.accountColumn(USERS);
      // Who stays owner, as each account's finding row names them, read before anything changes.
      const rows = await findingRows(ctx.trx, findingSql(ctx.shape, keys), keys.length);
      const written = await updateLogged(
        ctx,
        USERS,
        `role = 'admin'`,
        `select u.id from unnest(?::bigint[], ?::bigint[]) as k(account_id, keep)
           join ${USERS} u on u.${accountColumn} = k.account_id and u.role = 'owner' and u.id <> k.keep`,
        [rows.map((row) => row.target), rows.map((row) => row._keep_id)],
      );
      return { [USERS]: written };
    },
  },
};
