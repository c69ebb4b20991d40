// The one way a check runs its SQL. A check writes a query returning one row per finding
// (columns `key`, `account`, `sort`, then readable fields); this wraps it so that the count,
// the number of rows silenced by suppressions and the first `--sample` rows come back from
// one statement, and counts stay exact however many rows there are.
import type { CheckContext, CheckOutcome, Sample } from './types.js';

export interface FindingQuery {
  /** SELECT with columns key (text), account (text or null), sort (orderable), fields... */
  sql: string;
  bindings?: ReadonlyArray<string | number | boolean | null>;
}

const HIDDEN = new Set(['sort', '_total', '_suppressed', '_silenced']);

export async function runFindings(ctx: CheckContext, query: FindingQuery): Promise<CheckOutcome> {
  const limit = Math.max(0, Math.trunc(ctx.sample));
  // Suppressed keys travel as one JSON parameter: no list expansion, no quoting issues.
  const result = await ctx.knex.raw(
    `with findings as (${query.sql}),
     marked as (
       select f.*, f.key in (select jsonb_array_elements_text(cast(? as jsonb))) as _silenced
         from findings f),
     counts as (
       select count(*) filter (where not _silenced) as _total, count(*) filter (where _silenced) as _suppressed
         from marked),
     picked as (select * from marked where not _silenced order by sort, key limit ${limit})
     select c._total, c._suppressed, p.* from counts c left join picked p on true
      order by p.sort, p.key`,
    [...(query.bindings ?? []), JSON.stringify(ctx.suppressedKeys)],
  );
  const rows = result.rows as Array<Record<string, unknown>>;
  const first = rows[0] ?? { _total: 0, _suppressed: 0 };
  const samples: Sample[] = rows
    .filter((row) => row.key !== null && row.key !== undefined)
    .map((row) => {
      const sample: Record<string, unknown> = {};
      for (const [column, value] of Object.entries(row)) {
        if (!HIDDEN.has(column)) sample[column] = value instanceof Date ? value.toISOString() : value;
      }
      return sample as Sample;
    });
  return { kind: 'ran', count: Number(first._total), suppressed: Number(first._suppressed), samples };
}

/** ` and <column> = <id>` when the audit is scoped to one account; the id is an integer. */
export function scopeTo(ctx: CheckContext, ...columns: string[]): string {
  const id = ctx.scope.accountId;
  if (id === undefined) return '';
  if (!Number.isSafeInteger(id)) throw new Error(`account id ${String(id)} is not an integer`);
  return ` and (${columns.map((column) => `${column} = ${id}`).join(' or ')})`;
}

export function enforced(by: string): CheckOutcome {
  return { kind: 'enforced', by };
}

export function notApplicable(reason: string): CheckOutcome {
  return { kind: 'not-applicable', reason };
}

/** The tables a check reads that this database lacks; a check on a partial schema says so. */
export function missingTables(ctx: CheckContext, ...tables: string[]): CheckOutcome | undefined {
  const missing = tables.filter((table) => !ctx.schema.hasTable(table));
  return missing.length > 0 ? notApplicable(`missing table${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`) : undefined;
}

/** NOT NULL on a column, as the catalog says; its description for "enforced by". */
export function notNullConstraint(ctx: CheckContext, table: string, column: string): string | undefined {
  const info = ctx.schema.column(table, column);
  return info && !info.nullable ? `${table}.${column} not null` : undefined;
}
