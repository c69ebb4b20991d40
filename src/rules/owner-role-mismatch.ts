// seed #3, legacy shape only: an account whose owner_id names one of its members whose role
// is not owner, while another member holds the owner role. The two records of who owns the
// account disagree; neither account-without-owner (it has an owner) nor multiple-owners (it
// has one) reports it. Migration 0009 settles it by carrying owner_id into roles: the user
// owner_id names becomes owner, the other owners become admins. This rule shows that swap
// before it happens, and its repair makes it ahead of the migration, the same way.
//
// The roles it changes are archived in igny8_legacy_values exactly as 0009 archives them,
// under 0009's name and with its reasons, so a repaired database ends up as 0009 alone would
// leave it, and 0009's down migration puts these roles back with its own. Once 0009 has
// dropped owner_id the rule no longer applies.
import { insertLogged, tally, updateLogged } from '../repairs/log.js';
import { missingTables, scopeTo, withinIds } from './sql.js';
import type { Rule, TableCounts } from './types.js';

const USERS = 'igny8_users';
const LEGACY_VALUES = 'igny8_legacy_values';

/** The migration that carries owner_id into roles; its down migration reads back what is archived under its name. */
export const OWNER_INTO_ROLES_MIGRATION = '0009_owner_into_roles';

export interface RoleChange {
  /** Selects `id, role` of the users to change. */
  select: string;
  role: 'owner' | 'admin';
  /** Why, as archived with the previous role. */
  reason: string;
}

/**
 * The role changes that carry owner_id into roles, made in this order (the one-owner index
 * allows no other): the owners owner_id does not name become admins, then the user it names
 * becomes owner. `accountFilter` is SQL appended to both WHEREs (` and a.id = …`), over the
 * account row `a`. `named` is the SQL naming the owner-to-be, `a.owner_id` here and in 0009;
 * a transfer of ownership names its user, so a transfer and 0009 change roles the same way.
 */
export function ownerIntoRoles(
  names: { accounts: string; accountColumn: string },
  accountFilter = '',
  named = 'a.owner_id',
): { demote: RoleChange; promote: RoleChange } {
  const { accounts, accountColumn } = names;
  return {
    demote: {
      select: `select u.id, u.role from ${USERS} u join ${accounts} a on a.id = u.${accountColumn}
                where u.role = 'owner' and ${named} is not null and ${named} <> u.id${accountFilter}`,
      role: 'admin',
      reason: 'made admin: accounts.owner_id names another member as owner',
    },
    promote: {
      select: `select u.id, u.role from ${USERS} u join ${accounts} a on ${named} = u.id and a.id = u.${accountColumn}
                where u.role <> 'owner'${accountFilter}`,
      role: 'owner',
      reason: 'made owner: accounts.owner_id names this user',
    },
  };
}

export const ownerRoleMismatch: Rule = {
  id: 'owner-role-mismatch',
  severity: 'warning',
  scope: 'account',
  title: 'accounts whose owner_id names a non-owner member while another member is owner',
  remedy: 'igny8 repair owner-role-mismatch: the user owner_id names becomes owner, the other owners admin (as migration 0009 does)',
  verdict(shape) {
    const accounts = shape.schema.accountsTable;
    return (
      missingTables(shape, USERS, accounts) ??
      (shape.schema.hasColumn(accounts, 'owner_id')
        ? undefined
        : { kind: 'not-applicable', reason: `${accounts}.owner_id is gone: the owner is the member with role owner` })
    );
  },
  findings(shape, within) {
    const { schema } = shape;
    const accounts = schema.accountsTable;
    const accountColumn = schema.accountColumn(USERS);
    const batch = withinIds('a.id', within);
    return {
      sql: `select 'account:' || a.id as key, a.id as target, a.slug as account, a.id as sort,
                   a.owner_id, n.email as named_user, n.role as named_role,
                   (select string_agg(o.email, ', ' order by o.id) from ${USERS} o
                     where o.${accountColumn} = a.id and o.role = 'owner') as owners
              from ${accounts} a join ${USERS} n on n.id = a.owner_id and n.${accountColumn} = a.id
             where n.role <> 'owner'
               and exists (select 1 from ${USERS} o where o.${accountColumn} = a.id and o.role = 'owner')
                   ${scopeTo(shape, 'a.id')}${batch.sql}`,
      bindings: batch.bindings,
    };
  },
  repair: {
    action: 'make the user owner_id names the owner and the other owners admins, archiving their roles as migration 0009 does',
    table: (schema) => schema.accountsTable,
    change: (row) => `${String(row.named_user)}: ${String(row.named_role)} → owner; ${String(row.owners)}: owner → admin`,
    async apply(ctx, keys) {
      const { schema } = ctx.shape;
      const changes = ownerIntoRoles(
        { accounts: schema.accountsTable, accountColumn: schema.accountColumn(USERS) },
        ' and a.id = any(?::bigint[])',
      );
      const counts: TableCounts = {};
      for (const change of [changes.demote, changes.promote]) {
        // The previous role first, while the select still sees it.
        if (schema.hasTable(LEGACY_VALUES)) {
          tally(
            counts,
            LEGACY_VALUES,
            await insertLogged(
              ctx,
              LEGACY_VALUES,
              'migration, table_name, row_id, legacy, reason',
              `select ?, '${USERS}', c.id, jsonb_build_object('role', c.role), ? from (${change.select}) c`,
              [OWNER_INTO_ROLES_MIGRATION, change.reason, keys],
            ),
          );
        }
        tally(counts, USERS, await updateLogged(ctx, USERS, `role = '${change.role}'`, `select c.id from (${change.select}) c`, [keys]));
      }
      return counts;
    },
  },
};
