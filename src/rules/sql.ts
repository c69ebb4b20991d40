// Pieces every rule's SQL is made of, written once: the account scope, a repair batch's
// restriction, and the reasons a rule does not run on a shape.
import type { Knex } from 'knex';
import type { SchemaInfo } from '../schema/inspect.js';
import type { Shape, TargetKey, Verdict } from './types.js';

/**
 * The accounts a run is limited to: `--account`'s one, the changed ones of an incremental run
 * (both at once: those of the one in the other), or undefined for every account.
 */
export function scopedAccounts(shape: Shape): readonly number[] | undefined {
  const { accountId, accountIds } = shape;
  if (accountId === undefined) return accountIds;
  return accountIds === undefined || accountIds.includes(accountId) ? [accountId] : [];
}

/** One column's restriction to the scope: `= id`, or `= any('{…}')`, which an index answers too. */
function scopeCondition(column: string, ids: readonly number[]): string {
  for (const id of ids) if (!Number.isSafeInteger(id)) throw new Error(`account id ${String(id)} is not an integer`);
  return ids.length === 1 ? `${column} = ${ids[0]}` : `${column} = any('{${ids.join(',')}}'::bigint[])`;
}

/** ` and (<column> in scope or ...)` under `--account` or `--incremental`, else nothing; the ids are integers. */
export function scopeTo(shape: Shape, ...columns: string[]): string {
  const ids = scopedAccounts(shape);
  if (ids === undefined) return '';
  return ` and (${columns.map((column) => scopeCondition(column, ids)).join(' or ')})`;
}

/** ` and <expr> = any(?::bigint[])` with its binding when a repair batch restricts the rows. */
export function withinIds(expr: string, within: readonly TargetKey[] | undefined): { sql: string; bindings: Knex.RawBinding[] } {
  if (within === undefined) return { sql: '', bindings: [] };
  return { sql: ` and ${expr} = any(?::bigint[])`, bindings: [within.map(Number) as unknown as Knex.RawBinding] };
}

/** The tables a rule reads that this database lacks: it does not apply here. */
export function missingTables(shape: Shape, ...tables: string[]): Verdict | undefined {
  const missing = tables.filter((table) => !shape.schema.hasTable(table));
  if (missing.length === 0) return undefined;
  return { kind: 'not-applicable', reason: `missing table${missing.length > 1 ? 's' : ''} ${missing.join(', ')}` };
}

/** True when `table.column` exists and is NOT NULL. */
export function isNotNull(schema: SchemaInfo, table: string, column: string): boolean {
  const info = schema.column(table, column);
  return info !== undefined && !info.nullable;
}

/** "enforced by <table>.<column> not null" when the schema makes the rule's finding impossible. */
export function enforcedByNotNull(shape: Shape, table: string, column: string): Verdict | undefined {
  return isNotNull(shape.schema, table, column) ? { kind: 'enforced', by: `${table}.${column} not null` } : undefined;
}

/**
 * For a query that groups about one row per account of `table` by `column` to keep
 * very few groups: the planner picks a hash aggregate over every key (spilling past work_mem)
 * because it cannot know how few groups the HAVING keeps. Where the heap follows the column,
 * grouping in order, from the index, is the faster plan at scale (bench/RESULTS.md, "Audit
 * checks"); where rows arrived over time, that walk reads the heap at random and the hash
 * aggregate is three times faster (bench/RESULTS.md, "Production-shaped data"), so the planner
 * is left alone.
 */
export function groupInOrder(shape: Shape, table: string, column: string): Readonly<Record<string, string>> | undefined {
  return shape.heapFollows?.includes(`${table}.${column}`) ? { enable_hashagg: 'off' } : undefined;
}
