// The legacy application looks users up by email ignoring case (`upper(email::text) = upper(?)`,
// at signup and at login), and the legacy schema has no index for it: each lookup reads every
// user, inside the application's transaction. On a big database those transactions last
// seconds and overlap, so a table they touch is never free for the brief lock an expand
// migration needs, and each attempt queues the application behind it. This index, built
// concurrently before any of them, makes those transactions short.
// It needs nothing that comes after it: on a database migrated before it existed it is applied
// by the next run, not reported as a gap.
import type { Migration } from '../db/migrations.js';

const INDEX = 'igny8_users_email_upper_idx';

const migration: Migration = {
  description: 'users: index for the legacy application’s case-insensitive email lookup',
  phase: 'expand',
  independent: true,
  locks: [],
  async up() {},
  concurrentIndexes: [
    { name: INDEX, sql: `create index concurrently ${INDEX} on igny8_users (upper(email::text))` },
  ],
  async down({ trx }) {
    await trx.raw(`drop index if exists ${INDEX}`);
  },
};

export default migration;
