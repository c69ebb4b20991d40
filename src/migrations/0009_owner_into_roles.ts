// seed #3: no circular owner_id. The owner is the member with role 'owner', at most one per
// account. Before owner_id is dropped its information is carried into roles: the user it
// names becomes the owner (any other owner of that account becomes admin). Every role changed
// and every NULL owner_id is archived, so the down migration puts owner_id and roles back.
//
// Gated by account-without-owner (only where owner_id names no member: where it names one,
// this migration makes that member the owner) and multiple-owners. What owner-role-mismatch
// finds is resolved here, the way its repair resolves it, and counted in the note.
import type { Migration } from '../db/migrations.js';
import type { Knex } from 'knex';
import { accountWithoutOwner } from '../rules/account-without-owner.js';
import { multipleOwners } from '../rules/multiple-owners.js';
import { ownerIntoRoles, ownerRoleMismatch, OWNER_INTO_ROLES_MIGRATION, type RoleChange } from '../rules/owner-role-mismatch.js';
import { addForeignKey, archiveLegacyValues, forgetLegacyValues, plural } from './support/ddl.js';
import { countRuleFindings, requireRuleClean } from './support/preconditions.js';

const NAME = OWNER_INTO_ROLES_MIGRATION;

/** Gives the change's role to the users its select finds (id, role), archiving each previous role. */
async function changeRoles(trx: Knex.Transaction, { select, role, reason }: RoleChange): Promise<number> {
  const result = await trx.raw(
    `with target as (${select}),
     changed as (update igny8_users u set role = ? from target t where u.id = t.id returning u.id, t.role as previous),
     archived as (
       insert into igny8_legacy_values (migration, table_name, row_id, legacy, reason)
       select ?, 'igny8_users', id, jsonb_build_object('role', previous), ? from changed returning 1)
     select count(*)::int as count from archived`,
    [role, NAME, reason],
  );
  return Number(result.rows[0].count);
}

const migration: Migration = {
  description: 'owner carried from accounts.owner_id into roles, owner_id dropped, one owner per account (seed #3)',
  phase: 'contract',
  locks: [
    { table: 'igny8_accounts', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_users', mode: 'ACCESS EXCLUSIVE', work: 'write' },
    { table: 'igny8_legacy_values', mode: 'ROW EXCLUSIVE', work: 'write' },
  ],
  async up({ trx, note }) {
    await requireRuleClean(trx, accountWithoutOwner, {
      guarantee: 'the owner role (replacing accounts.owner_id)',
      // Where owner_id names a member, this migration makes it the owner: only an owner_id
      // that is NULL or names no member (the owner the repair would choose is someone else) blocks.
      only: 'f.owner_id is null or f._new_owner_id is distinct from f.owner_id',
      what: 'accounts without an owner, or whose owner_id names a user of another account',
      one: 'account without an owner, or whose owner_id names a user of another account',
      repairHint: 'it promotes the user owner_id names if a member, else the earliest admin, else the earliest user',
    });
    await requireRuleClean(trx, multipleOwners, {
      guarantee: 'the one-owner-per-account index',
      what: 'accounts with more than one owner',
      one: 'account with more than one owner',
      repairHint: 'it keeps one owner (the one owner_id names, else the earliest) and makes the others admin',
    });
    const mismatched = await countRuleFindings(trx, ownerRoleMismatch);
    const nullOwners = await archiveLegacyValues(
      trx,
      NAME,
      'igny8_accounts',
      `select id, jsonb_build_object('owner_id', null), 'owner_id was NULL; the owner is the member with role owner'
         from igny8_accounts where owner_id is null`,
    );
    // Each role change and the archive of the role it replaces are one statement.
    const changes = ownerIntoRoles({ accounts: 'igny8_accounts', accountColumn: 'account_id' });
    const demoted = await changeRoles(trx, changes.demote);
    const promoted = await changeRoles(trx, changes.promote);
    await trx.raw(`alter table igny8_accounts drop column owner_id`);
    await trx.raw(`create unique index igny8_users_one_owner_per_account on igny8_users (account_id) where role = 'owner'`);
    note(
      `owner_id carried into roles: ${plural(promoted, 'user')} made owner, ${plural(demoted, 'owner')} made admin ` +
        `(their previous roles kept in igny8_legacy_values); ` +
        `owner-role-mismatch resolved for ${plural(mismatched, 'account')}; ` +
        `${plural(nullOwners, 'account')} had no owner_id; owner_id dropped`,
    );
  },
  async down({ trx }) {
    await trx.raw(`drop index igny8_users_one_owner_per_account`);
    await trx.raw(`alter table igny8_accounts add column owner_id bigint null`);
    await trx.raw(
      `update igny8_accounts a set owner_id = u.id from igny8_users u
        where u.account_id = a.id and u.role = 'owner'
          and not exists (select 1 from igny8_legacy_values v
                           where v.migration = ? and v.table_name = 'igny8_accounts' and v.row_id = a.id)`,
      [NAME],
    );
    await trx.raw(
      `update igny8_users u set role = v.legacy->>'role' from igny8_legacy_values v
        where v.migration = ? and v.table_name = 'igny8_users' and v.row_id = u.id`,
      [NAME],
    );
    await forgetLegacyValues(trx, NAME);
    await addForeignKey(trx, {
      table: 'igny8_accounts',
      name: 'igny8_accounts_owner_id_fkey',
      columns: ['owner_id'],
      references: 'igny8_users',
      referencedColumns: ['id'],
      options: 'deferrable initially deferred',
    });
    await trx.raw(`create index igny8_accounts_owner_id_idx on igny8_accounts (owner_id)`);
  },
};

export default migration;
