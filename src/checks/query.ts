// The one way a check runs its SQL. A check writes a query returning one row per finding
// (columns `key`, `account`, `sort`, then readable fields); this wraps it so that the count,
// the number of rows silenced by suppressions and the first `--sample` rows come back from
// one statement, and counts stay exact however many rows there are.
import type { CheckContext, CheckOutcome, Sample } from './types.js';

export interface FindingQuery {
  /** SELECT with columns key (text), account (text or null), sort (orderable), fields... */
  sql: string;
  bindings?: ReadonlyArray<string | number | boolean | null>;
  /**
   * Planner settings for this one statement, restored after it. For the few queries where the
   * planner's estimate is known to be wrong at scale (see the check that sets one).
   */
  settings?: Readonly<Record<string, string>>;
}

/**
 * For a query that groups about one row per account or site to keep very few groups: the
 * planner picks a hash aggregate over a million keys (spilling past work_mem) because it
 * cannot know how few groups the HAVING keeps; grouping in order, from the index, measured
 * 2-3.5× faster at 10^6 accounts (multiple-owners 757 → 382 ms, sector-limit 1,154 → 322 ms).
 */
export const GROUP_IN_ORDER = { enable_hashagg: 'off' } as const;

const HIDDEN = new Set(['sort', '_total', '_suppressed', '_silenced']);

export async function runFindings(ctx: CheckContext, query: FindingQuery): Promise<CheckOutcome> {
  const settings = Object.entries(query.settings ?? {});
  if (settings.length === 0) return findings(ctx, query);
  // Transaction-local, so a failing statement's savepoint rollback undoes them; restored by
  // hand after a success, so the next query on this transaction plans as configured.
  const previous = await setAll(ctx, settings);
  const outcome = await findings(ctx, query);
  await setAll(ctx, previous);
  return outcome;
}

async function setAll(ctx: CheckContext, settings: Array<[string, string]>): Promise<Array<[string, string]>> {
  const previous: Array<[string, string]> = [];
  for (const [name, value] of settings) {
    const result = await ctx.knex.raw('select current_setting(?) as previous, set_config(?, ?, true)', [name, name, value]);
    previous.push([name, String(result.rows[0].previous)]);
  }
  return previous;
}

async function findings(ctx: CheckContext, query: FindingQuery): Promise<CheckOutcome> {
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
