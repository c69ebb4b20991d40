// Repairs run on every shape the migration chain passes through (legacy, target, between):
// table and column names come from the schema, never from a fixed spelling.
import type { Knex } from 'knex';
import type { SchemaInfo } from '../schema/inspect.js';
import type { RepairContext, RepairKey } from './types.js';

/** The accounts table, and the account column of a tenant table, on this shape. */
export function names(schema: SchemaInfo): { accounts: string; acct: (table: string) => string } {
  return { accounts: schema.accountsTable, acct: (table) => schema.accountColumn(table) };
}

/** ` and <expr> = <account id>` under `--account`, else nothing (the id is a resolved integer). */
export function inScope(ctx: RepairContext, expr: string): string {
  const id = ctx.options.accountId;
  return id === undefined ? '' : ` and ${expr} = ${Math.trunc(Number(id))}`;
}

/** ` and <expr> = any(?)` with its binding when `within` is given. */
export function within(expr: string, keys: RepairKey[] | undefined): { sql: string; bindings: unknown[] } {
  return keys === undefined ? { sql: '', bindings: [] } : { sql: ` and ${expr} = any(?::bigint[])`, bindings: [keys] };
}

/** True when `table.column` exists and is NOT NULL: the schema enforces what a check looks for. */
export function enforcedNotNull(schema: SchemaInfo, table: string, column: string): boolean {
  const info = schema.column(table, column);
  return info !== undefined && !info.nullable;
}

export async function ids(ctx: RepairContext, sql: string, bindings: unknown[]): Promise<number[]> {
  const result = await ctx.trx.raw(sql, bindings as Knex.RawBinding[]);
  return (result.rows as Array<{ id: number }>).map((row) => Number(row.id));
}

export async function rows<T>(ctx: RepairContext, sql: string, bindings: unknown[] = []): Promise<T[]> {
  const result = await ctx.trx.raw(sql, bindings as Knex.RawBinding[]);
  return result.rows as T[];
}
