// An access row's granted_by names a user of the row's own account, through the composite key
// (account_id, granted_by_id) → users (account_id, id), like every other reference between
// tenant rows: a database distributed by account_id can then check it on one node
// (docs/scaling.md). A NULL granted_by stays allowed (MATCH SIMPLE). Rows naming another
// account's user are counted and refused, for a person to resolve; nothing is rewritten.
import type { Migration } from '../db/migrations.js';
import { DomainRefusal, sqlState, SqlState } from '../errors.js';
import { addForeignKey, singleColumnForeignKeys } from './support/ddl.js';
import { countRows } from './support/preconditions.js';

const ACCESS = 'igny8_site_user_access';
const NAME = 'igny8_site_user_access_account_id_granted_by_id_fkey';

const CROSSING = `select count(*) as count from ${ACCESS} a join igny8_users u on u.id = a.granted_by_id where u.account_id <> a.account_id`;

const migration: Migration = {
  description: "site access: granted_by names a user of the row's own account (composite key)",
  phase: 'contract',
  // The new key is validated against every access row; the old single-column key is dropped.
  locks: [
    { table: 'igny8_site_user_access', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_users', mode: 'ACCESS EXCLUSIVE' },
  ],
  async up({ trx, note }) {
    try {
      await trx.transaction((savepoint) =>
        addForeignKey(savepoint, {
          table: ACCESS,
          name: NAME,
          columns: ['account_id', 'granted_by_id'],
          references: 'igny8_users',
          referencedColumns: ['account_id', 'id'],
        }),
      );
    } catch (error) {
      if (sqlState(error) !== SqlState.foreignKeyViolation) throw error;
      const count = await countRows(trx, CROSSING);
      throw new DomainRefusal(`migration blocked: ${count} access rows name a granting user of another account`, {
        code: 'migration-blocked',
        details: [
          `list them: ${CROSSING.replace('count(*) as count', 'a.id, a.account_id, a.granted_by_id, u.account_id as granted_by_account')}`,
          'a person decides: set granted_by_id to a user of the row’s account (or NULL when unknown), then run `igny8 migrate` again',
          'nothing was changed by this migration',
        ],
        cause: error,
      });
    }
    for (const old of await singleColumnForeignKeys(trx, ACCESS, 'granted_by_id', 'igny8_users')) {
      await trx.raw(`alter table ${ACCESS} drop constraint "${old}"`);
    }
    note('access rows can only name a granting user of their own account');
  },
  async down({ trx }) {
    await addForeignKey(trx, {
      table: ACCESS,
      name: `${ACCESS}_granted_by_id_fkey`,
      columns: ['granted_by_id'],
      references: 'igny8_users',
      referencedColumns: ['id'],
    });
    await trx.raw(`alter table ${ACCESS} drop constraint ${NAME}`);
  },
};

export default migration;
