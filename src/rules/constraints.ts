// What the schema itself guarantees. A check whose finding a constraint now makes
// impossible reports "enforced by <constraint>" instead of running; the constraint is
// detected in the catalog (pg_index, pg_constraint), never inferred from migration names.
// NOT VALID constraints and invalid indexes guarantee nothing about existing rows, so they
// are left out.
import type { Knex } from 'knex';

export interface IndexInfo {
  table: string;
  name: string;
  unique: boolean;
  /** Plain columns in index order, then its INCLUDE columns; an expression appears as null. */
  columns: Array<string | null>;
  /** How many of `columns` are keys (the rest are carried, not ordered). */
  keyColumns: number;
  /** The access method: btree, hash, gin, brin, … */
  method: string;
  definition: string;
  /** The WHERE of a partial index, as Postgres prints it. */
  predicate: string | null;
}

export interface ForeignKeyInfo {
  table: string;
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
}

export interface CheckConstraintInfo {
  table: string;
  name: string;
}

export class SchemaConstraints {
  constructor(
    readonly indexes: readonly IndexInfo[],
    readonly foreignKeys: readonly ForeignKeyInfo[],
    /** Validated CHECK constraints (a NOT VALID one guarantees nothing about old rows). */
    readonly checks: readonly CheckConstraintInfo[] = [],
  ) {}

  /** A validated CHECK constraint of that name on `table`. */
  checkConstraint(table: string, name: string): CheckConstraintInfo | undefined {
    return this.checks.find((check) => check.table === table && check.name === name);
  }

  /** A valid index on `table` that satisfies `test`. */
  index(table: string, test: (index: IndexInfo) => boolean): IndexInfo | undefined {
    return this.indexes.find((index) => index.table === table && test(index));
  }

  /** A valid unique index on `table` that satisfies `test`. */
  uniqueIndex(table: string, test: (index: IndexInfo) => boolean): IndexInfo | undefined {
    return this.index(table, (index) => index.unique && test(index));
  }

  /** A validated foreign key from exactly `columns` (any order) of `table` to `referencedTable`. */
  foreignKey(table: string, columns: readonly string[], referencedTable: string): ForeignKeyInfo | undefined {
    const wanted = [...columns].sort().join(',');
    return this.foreignKeys.find(
      (key) =>
        key.table === table && key.referencedTable === referencedTable && [...key.columns].sort().join(',') === wanted,
    );
  }
}

/** Reads every valid index and validated foreign key of the current schema, in two queries. */
export async function loadConstraints(knex: Knex | Knex.Transaction): Promise<SchemaConstraints> {
  const indexes = await knex.raw(`
    select t.relname as "table", i.relname as name, x.indisunique as "unique",
           x.indnkeyatts as "keyColumns", am.amname as method,
           array_to_json(array(
             select a.attname from unnest(cast(x.indkey as int2[])) with ordinality k(attnum, ord)
               left join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
              order by k.ord)) as columns,
           pg_get_indexdef(x.indexrelid) as definition,
           pg_get_expr(x.indpred, x.indrelid) as predicate
      from pg_index x
      join pg_class i on i.oid = x.indexrelid
      join pg_am am on am.oid = i.relam
      join pg_class t on t.oid = x.indrelid
      join pg_namespace n on n.oid = t.relnamespace
     where n.nspname = current_schema() and x.indisvalid`);
  const keys = await knex.raw(`
    select t.relname as "table", c.conname as name, r.relname as "referencedTable",
           array_to_json(array(
             select a.attname from unnest(c.conkey) with ordinality k(attnum, ord)
               join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum order by k.ord)) as columns,
           array_to_json(array(
             select a.attname from unnest(c.confkey) with ordinality k(attnum, ord)
               join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum order by k.ord))
             as "referencedColumns"
      from pg_constraint c
      join pg_class t on t.oid = c.conrelid
      join pg_class r on r.oid = c.confrelid
      join pg_namespace n on n.oid = t.relnamespace
     where c.contype = 'f' and c.convalidated and n.nspname = current_schema()`);
  const checks = await knex.raw(`
    select t.relname as "table", c.conname as name
      from pg_constraint c
      join pg_class t on t.oid = c.conrelid
      join pg_namespace n on n.oid = t.relnamespace
     where c.contype = 'c' and c.convalidated and n.nspname = current_schema()`);
  return new SchemaConstraints(
    (indexes.rows as IndexInfo[]).map((row) => ({ ...row, keyColumns: Number(row.keyColumns), columns: parseJson(row.columns) })),
    (keys.rows as ForeignKeyInfo[]).map((row) => ({
      ...row,
      columns: parseJson(row.columns),
      referencedColumns: parseJson(row.referencedColumns),
    })),
    checks.rows as CheckConstraintInfo[],
  );
}

/** json comes back parsed from pg and PGlite alike; text only if a driver leaves it alone. */
function parseJson<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}
