// Unique keys a table distributed by account_id can enforce (docs/scaling.md): a sector's slug
// per site, an integration's platform per site and an access row per user and site each become
// unique per (account_id, …). The composite foreign keys make each site and user belong to the
// row's own account, so the wider key admits exactly the rows the old one did: no value
// changes, nothing is refused. One index build per table, under a lock that holds writes
// for the build's duration.
import type { Knex } from 'knex';
import type { Migration } from '../db/migrations.js';

const KEYS = [
  { table: 'igny8_sectors', columns: ['site_id', 'slug'] },
  { table: 'igny8_site_integrations', columns: ['site_id', 'platform'] },
  { table: 'igny8_site_user_access', columns: ['user_id', 'site_id'] },
] as const;

const nameOf = (table: string, columns: readonly string[]) => `${table}_${columns.join('_')}_key`;

/** The unique constraints on exactly `columns` of `table` (an adopted database names them its own way). */
async function uniqueOn(trx: Knex.Transaction, table: string, columns: readonly string[]): Promise<string[]> {
  const result = await trx.raw(
    `select c.conname as name from pg_constraint c
      where c.conrelid = to_regclass(?) and c.contype = 'u'
        and array(select a.attname::text from unnest(c.conkey) with ordinality k(attnum, n)
                    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum order by k.n) = ?::text[]`,
    [table, [...columns]],
  );
  return (result.rows as Array<{ name: string }>).map((row) => row.name);
}

async function swap(trx: Knex.Transaction, table: string, from: readonly string[], to: readonly string[]): Promise<void> {
  const name = nameOf(table, to);
  await trx.raw(`create unique index ${name} on ${table} (${to.join(', ')})`);
  await trx.raw(`alter table ${table} add constraint ${name} unique using index ${name}`);
  for (const old of await uniqueOn(trx, table, from)) await trx.raw(`alter table ${table} drop constraint "${old}"`);
}

const migration: Migration = {
  description: 'unique keys per account: sector slug per site, integration per site, access per user and site',
  phase: 'contract',
  // Each new unique index is built over its table's rows, then the old key is dropped.
  locks: [
    { table: 'igny8_sectors', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_site_integrations', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
    { table: 'igny8_site_user_access', mode: 'ACCESS EXCLUSIVE', work: 'scan' },
  ],
  async up({ trx, note }) {
    for (const key of KEYS) await swap(trx, key.table, key.columns, ['account_id', ...key.columns]);
    note(`${KEYS.length} unique keys now include account_id: ${KEYS.map((key) => key.table).join(', ')}`);
  },
  async down({ trx }) {
    for (const key of KEYS) await swap(trx, key.table, ['account_id', ...key.columns], key.columns);
  },
};

export default migration;
