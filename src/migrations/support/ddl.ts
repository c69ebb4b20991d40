// Constraint changes the lock-friendly way: NOT VALID (a brief lock, no scan) then VALIDATE
// (scans without blocking writes); NOT NULL through a validated CHECK, so SET NOT NULL needs
// no scan of its own. On PGlite each statement is its own raw call.
import type { Knex } from 'knex';
import { execStatements } from '../../db/transaction.js';

/** column NOT NULL: CHECK ... NOT VALID, VALIDATE, SET NOT NULL (uses the check), drop the check. */
export async function setNotNull(trx: Knex.Transaction, table: string, column: string): Promise<void> {
  const check = `${table}_${column}_not_null`;
  await execStatements(trx, [
    `alter table ${table} add constraint ${check} check (${column} is not null) not valid`,
    `alter table ${table} validate constraint ${check}`,
    `alter table ${table} alter column ${column} set not null`,
    `alter table ${table} drop constraint ${check}`,
  ]);
}

export interface ForeignKey {
  table: string;
  name: string;
  columns: string[];
  references: string;
  referencedColumns: string[];
  /** e.g. "deferrable initially deferred" */
  options?: string;
}

/** Adds a foreign key NOT VALID, then validates it. */
export async function addForeignKey(trx: Knex.Transaction, fk: ForeignKey): Promise<void> {
  await execStatements(trx, [
    `alter table ${fk.table} add constraint ${fk.name} foreign key (${fk.columns.join(', ')})
       references ${fk.references} (${fk.referencedColumns.join(', ')})${fk.options ? ` ${fk.options}` : ''} not valid`,
    `alter table ${fk.table} validate constraint ${fk.name}`,
  ]);
}

/**
 * The names of the single-column foreign keys from table.column to `references` (a database
 * adopted from Django names them its own way, so they are looked up, not assumed).
 */
export async function singleColumnForeignKeys(
  trx: Knex.Transaction,
  table: string,
  column: string,
  references: string,
): Promise<string[]> {
  const result = await trx.raw(
    `select c.conname as name
       from pg_constraint c
       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
      where c.contype = 'f' and c.conrelid = to_regclass(?) and c.confrelid = to_regclass(?)
        and array_length(c.conkey, 1) = 1 and a.attname = ?
      order by c.conname`,
    [table, references, column],
  );
  return (result.rows as Array<{ name: string }>).map((row) => row.name);
}

/** Inserts rows into the legacy-values archive from a SELECT of (row_id, legacy, reason). */
export async function archiveLegacyValues(
  trx: Knex.Transaction,
  migration: string,
  table: string,
  select: string,
  bindings: readonly Knex.RawBinding[] = [],
): Promise<number> {
  const result = await trx.raw(
    `with archived as (
       insert into igny8_legacy_values (migration, table_name, row_id, legacy, reason)
       select ?, ?, v.row_id, v.legacy, v.reason from (${select}) as v(row_id, legacy, reason)
       returning 1)
     select count(*)::int as count from archived`,
    [migration, table, ...bindings],
  );
  return Number(result.rows[0].count);
}

/** Removes a migration's archived values once its down migration has put them back. */
export async function forgetLegacyValues(trx: Knex.Transaction, migration: string): Promise<void> {
  await trx.raw(`delete from igny8_legacy_values where migration = ?`, [migration]);
}

/** "1 row" / "3 rows" */
// The one plural helper, re-exported where the migrations have always found it.
export { plural } from '../../render/text.js';

/** Runs an INSERT/UPDATE/DELETE (without RETURNING) and returns how many rows it wrote. */
export async function writeCount(trx: Knex.Transaction, statement: string, bindings: readonly Knex.RawBinding[] = []): Promise<number> {
  const result = await trx.raw(`with changed as (${statement} returning 1) select count(*)::int as count from changed`, [...bindings]);
  return Number(result.rows[0].count);
}

/**
 * Runs work that rewrites most rows of `table` with its indexes dropped and rebuilt
 * afterwards: one index build is far cheaper than an index insertion per updated row. Plain
 * indexes are recreated from their definitions; with `constraints`, primary-key and unique
 * constraints too (for work that needs no index of the table), unless a foreign key depends
 * on them.
 */
export async function withIndexesRebuilt<T>(
  trx: Knex.Transaction,
  table: string,
  work: () => Promise<T>,
  options: { constraints?: boolean } = {},
): Promise<T> {
  const constraints = !options.constraints ? [] : (
    await trx.raw(
      `select c.conname as name, pg_get_constraintdef(c.oid) as definition
         from pg_constraint c
        where c.conrelid = to_regclass(?) and c.contype in ('p', 'u')
          and not exists (select 1 from pg_constraint f where f.contype = 'f' and f.conindid = c.conindid)
        order by c.conname`,
      [table],
    )
  ).rows as Array<{ name: string; definition: string }>;
  const indexes = (
    await trx.raw(
      `select i.relname as name, pg_get_indexdef(i.oid) as definition
         from pg_index x join pg_class i on i.oid = x.indexrelid
        where x.indrelid = to_regclass(?)
          and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)
        order by i.relname`,
      [table],
    )
  ).rows as Array<{ name: string; definition: string }>;
  for (const constraint of constraints) await trx.raw(`alter table ${table} drop constraint "${constraint.name}"`);
  for (const index of indexes) await trx.raw(`drop index "${index.name}"`);
  const value = await work();
  for (const constraint of constraints) {
    await trx.raw(`alter table ${table} add constraint "${constraint.name}" ${constraint.definition}`);
  }
  for (const index of indexes) await trx.raw(index.definition);
  return value;
}
