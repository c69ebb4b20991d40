// seed #3: the owner is the user with role 'owner'. Legacy accounts also name an owner_id,
// which may point at a user of another account; both leave the account without an owner.
// Migration 0009 (carrying owner_id into roles) is gated by this rule.
//
// Repair: an existing owner stays; else the user owner_id names, if a member; else the
// earliest admin; else the earliest user becomes owner. A legacy owner_id is pointed at the
// owner. Accounts with no users at all have nobody to promote: they are left for a person.
//
// Decided once here: the old check read "owner_id names a user of another account" as
// `users.account_id <> accounts.id`, the old repair as `is distinct from`, which also took an
// owner_id naming a user without any account. Such a user is an orphan: orphan-users (repaired
// first) attaches it to the account that names it, after which it is a member, so this rule
// keeps the check's reading. The chosen owner is part of the finding row, so the plan shows
// who it will be and the repair promotes exactly that user.
import { tally, updateLogged } from '../repairs/log.js';
import { findingRows } from './finding.js';
import { missingTables, scopeTo, withinIds } from './sql.js';
import type { FindingSql, Rule, Shape, TableCounts, TargetKey } from './types.js';

const USERS = 'igny8_users';

function hasOwnerId(shape: Shape): boolean {
  return shape.schema.hasColumn(shape.schema.accountsTable, 'owner_id');
}

/** The order in which an account's users are considered for owner (`a` is the account row). */
function ownerPrecedence(shape: Shape): string {
  const named = hasOwnerId(shape) ? '(u.id = a.owner_id) desc,' : '';
  return `(u.role = 'owner') desc, ${named} (u.role = 'admin') desc, u.date_joined, u.id`;
}

function findingSql(shape: Shape, within?: readonly TargetKey[]): FindingSql {
  const { schema } = shape;
  const accounts = schema.accountsTable;
  const accountColumn = schema.accountColumn(USERS);
  const named = hasOwnerId(shape);
  const batch = withinIds('a.id', within);
  // Two narrow questions instead of counting every account's users: accounts no owner-role
  // user points at (an anti-join), and legacy owner_ids naming another account's user. An
  // account in both is reported once, as the first.
  const foreignOwner = named
    ? `union all
       select a.id, 2 as rank, 'owner_id names a user of another account' as problem
         from ${accounts} a join ${USERS} n on n.id = a.owner_id
        where n.${accountColumn} <> a.id${scopeTo(shape, 'a.id')}${batch.sql}`
    : '';
  return {
    sql: `select 'account:' || x.id as key, x.id as target, a.slug as account, x.id as sort, x.problem,
                 (select count(*) from ${USERS} u where u.${accountColumn} = x.id) as users${named ? ', a.owner_id' : ''},
                 o.id as _new_owner_id, o.email as _new_owner_email, o.role as _new_owner_role
            from (select distinct on (f.id) f.id, f.problem
                    from (select a.id, 1 as rank, 'no user with role owner' as problem
                            from ${accounts} a
                           where not exists (select 1 from ${USERS} u where u.${accountColumn} = a.id and u.role = 'owner')
                                 ${scopeTo(shape, 'a.id')}${batch.sql}
                          ${foreignOwner}) f
                   order by f.id, f.rank) x
            cross join lateral (select slug${named ? ', owner_id' : ''} from ${accounts} where id = x.id) a
            left join lateral (select u.id, u.email, u.role from ${USERS} u where u.${accountColumn} = x.id
                                order by ${ownerPrecedence(shape)} limit 1) o on true`,
    bindings: named ? [...batch.bindings, ...batch.bindings] : batch.bindings,
  };
}

export const accountWithoutOwner: Rule = {
  id: 'account-without-owner',
  severity: 'error',
  scope: 'account',
  title: "accounts with no owner user, or an owner_id naming another account's user",
  remedy: 'igny8 repair account-without-owner: promote the named user if a member, else the earliest admin, else the earliest user',
  verdict(shape) {
    return missingTables(shape, USERS, shape.schema.accountsTable);
  },
  findings: findingSql,
  repair: {
    action: 'make one member the owner: the user owner_id names if a member, else the earliest admin, else the earliest user',
    table: (schema) => schema.accountsTable,
    fixable: () => ({
      where: 'f._new_owner_id is not null',
      leftOver: 'accounts with no users at all: nobody to promote, a person decides',
    }),
    change: (row) =>
      row._new_owner_role === 'owner'
        ? `owner_id → ${String(row._new_owner_email)}, the existing owner`
        : `${String(row._new_owner_email)}: ${String(row._new_owner_role)} → owner`,
    async apply(ctx, keys) {
      const { shape } = ctx;
      const accounts = shape.schema.accountsTable;
      // The owner each account gets, as its finding row names it, read before anything changes.
      const rows = (await findingRows(ctx.trx, findingSql(shape, keys), keys.length)).filter(
        (row) => row._new_owner_id !== null,
      );
      const chosen = [rows.map((row) => row.target), rows.map((row) => row._new_owner_id)];
      const pairs = 'unnest(?::bigint[], ?::bigint[]) as c(account_id, user_id)';
      const counts: TableCounts = {};
      tally(
        counts,
        USERS,
        await updateLogged(
          ctx,
          USERS,
          `role = 'owner'`,
          `select u.id from ${pairs} join ${USERS} u on u.id = c.user_id where u.role <> 'owner'`,
          chosen,
        ),
      );
      if (hasOwnerId(shape)) {
        tally(
          counts,
          accounts,
          await updateLogged(
            ctx,
            accounts,
            'owner_id = src.user_id, updated_at = now()',
            `select x.id, c.user_id from ${pairs} join ${accounts} x on x.id = c.account_id where x.owner_id is distinct from c.user_id`,
            chosen,
          ),
        );
      }
      return counts;
    },
  },
};
