// Where a migration retires a legacy value that has no natural new home (a credits_per_month
// that could not be folded, a role changed when owner_id is carried into roles, wp_* values of a
// site whose integration already said otherwise, the two payment_method columns), the value is
// kept here, with the migration that moved it and why: no legacy value silently vanishes.
import type { Migration } from '../db/migrations.js';
import { execStatements } from '../db/transaction.js';
import { DomainRefusal } from '../errors.js';
import { countRows } from './support/preconditions.js';

const migration: Migration = {
  description: 'archive of legacy values the later migrations retire',
  phase: 'expand',
  locks: [],
  async up({ trx }) {
    await execStatements(trx, [
      `create table igny8_legacy_values (
        id bigserial primary key,
        migration varchar(255) not null,
        table_name varchar(63) not null,
        row_id bigint not null,
        legacy jsonb not null,
        reason text not null,
        archived_at timestamptz not null default now()
      )`,
      `create index igny8_legacy_values_table_name_row_id_idx on igny8_legacy_values (table_name, row_id)`,
      `create index igny8_legacy_values_migration_idx on igny8_legacy_values (migration)`,
    ]);
  },
  async down({ trx }) {
    const rows = await countRows(trx, `select count(*) as count from igny8_legacy_values`);
    if (rows > 0) throw new DomainRefusal(`cannot revert: igny8_legacy_values still holds ${rows} archived legacy values`);
    await trx.raw(`drop table igny8_legacy_values`);
  },
};

export default migration;
