// The schema of a database as comparable text: columns, constraints, indexes, triggers.
import type { Knex } from 'knex';

export interface SchemaSnapshot {
  columns: string[];
  constraints: string[];
  indexes: string[];
  triggers: string[];
}

export async function schemaSnapshot(knex: Knex | Knex.Transaction): Promise<SchemaSnapshot> {
  const columns = await knex.raw(
    `select table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '')
            || coalesce(' p' || numeric_precision || ',' || numeric_scale, '') || ' ' || is_nullable
            || coalesce(' default ' || column_default, '') as line
       from information_schema.columns where table_schema = current_schema()
      order by table_name, column_name`,
  );
  const constraints = await knex.raw(
    `select conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(c.oid) as line
       from pg_constraint c join pg_namespace n on n.oid = c.connamespace
      where n.nspname = current_schema() and conrelid <> 0 order by 1`,
  );
  const indexes = await knex.raw(`select indexdef as line from pg_indexes where schemaname = current_schema() order by indexname`);
  const triggers = await knex.raw(
    `select tgrelid::regclass::text || ' ' || tgname || ' ' || pg_get_triggerdef(t.oid) as line
       from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and not t.tgisinternal order by 1`,
  );
  const lines = (result: { rows: Array<{ line: string }> }) => result.rows.map((row) => row.line);
  return { columns: lines(columns), constraints: lines(constraints), indexes: lines(indexes), triggers: lines(triggers) };
}

/** Every row of a table, ordered by id, for before/after comparisons. */
export async function tableRows(knex: Knex | Knex.Transaction, table: string): Promise<Record<string, unknown>[]> {
  return knex(table).select('*').orderBy('id');
}
