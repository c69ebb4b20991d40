// When a user was deactivated: `user deactivate` sets is_active false and records the time,
// so `account show` can say since when a member holds no access. Additive: the legacy
// application neither reads nor writes the column.
import type { Migration } from '../db/migrations.js';

const migration: Migration = {
  description: 'users: deactivated_at, the time a user was deactivated',
  phase: 'expand',
  // A nullable column without a default: a catalog change, no rewrite.
  locks: [{ table: 'igny8_users', mode: 'ACCESS EXCLUSIVE' }],
  async up({ trx }) {
    await trx.raw(`alter table igny8_users add column deactivated_at timestamptz null`);
  },
  async down({ trx }) {
    await trx.raw(`alter table igny8_users drop column deactivated_at`);
  },
};

export default migration;
