// Small readers the database tests share: rows of a query, the rows of a table that match a
// condition, and the row counts of several tables in one statement.
import type { Knex } from 'knex';

export async function all<T = Record<string, unknown>>(knex: Knex, sql: string, bindings: unknown[] = []): Promise<T[]> {
  const result = await knex.raw(sql, bindings as Knex.RawBinding[]);
  return result.rows as T[];
}

export async function count(knex: Knex, table: string, where = 'true', bindings: unknown[] = []): Promise<number> {
  const [row] = await all<{ n: number }>(knex, `select count(*)::int as n from ${table} where ${where}`, bindings);
  return Number(row.n);
}

/** Rows per table, in one statement. */
export async function rowCounts(knex: Knex, tables: readonly string[]): Promise<Record<string, number>> {
  const [row] = await all<Record<string, number>>(
    knex,
    `select ${tables.map((table) => `(select count(*)::int from ${table}) as "${table}"`).join(', ')}`,
  );
  return Object.fromEntries(tables.map((table) => [table, Number(row[table])]));
}
