// The one way a rule's finding SQL is run. The audit counts and samples it; a repair takes
// its targets, examples and left-over rows from it; a migration gate counts it. Counts stay
// exact however many rows there are, and samples come from the same statement.
import type { Knex } from 'knex';
import type { Fixable, FindingSql, TargetKey } from './types.js';

export type Sample = { key: string; account?: string | null } & Record<string, unknown>;

export interface FindingCount {
  count: number;
  /** Rows silenced by suppressions naming their key: counted apart, never sampled. */
  suppressed: number;
  samples: Sample[];
}

type Querier = Knex | Knex.Transaction;

/** Columns of the finding SQL that are never shown: the wrapper's, the sort key, the target, `_` ones. */
function visible(column: string): boolean {
  return !['sort', 'target', '_total', '_suppressed', '_silenced'].includes(column) && !column.startsWith('_');
}

function asSample(row: Record<string, unknown>): Sample {
  const sample: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (visible(column) || column === 'key') sample[column] = value instanceof Date ? value.toISOString() : value;
  }
  return sample as Sample;
}

/** Runs `work` with the finding's planner settings in force for it alone. */
async function withSettings<T>(knex: Querier, query: FindingSql, work: () => Promise<T>): Promise<T> {
  const settings = Object.entries(query.settings ?? {});
  if (settings.length === 0) return work();
  // Transaction-local, so a failing statement's savepoint rollback undoes them; restored by
  // hand after a success, so the next query on this transaction plans as configured.
  const previous = await setAll(knex, settings);
  const result = await work();
  await setAll(knex, previous);
  return result;
}

async function setAll(knex: Querier, settings: Array<[string, string]>): Promise<Array<[string, string]>> {
  const previous: Array<[string, string]> = [];
  for (const [name, value] of settings) {
    const result = await knex.raw('select current_setting(?) as previous, set_config(?, ?, true)', [name, name, value]);
    previous.push([name, String(result.rows[0].previous)]);
  }
  return previous;
}

/** The count, the suppressed count and the first `sample` rows, in one statement. */
export async function countFindings(
  knex: Querier,
  query: FindingSql,
  options: { sample: number; suppressedKeys?: readonly string[] },
): Promise<FindingCount> {
  const limit = Math.max(0, Math.trunc(options.sample));
  return withSettings(knex, query, async () => {
    // Suppressed keys travel as one JSON parameter: no list expansion, no quoting issues.
    const result = await knex.raw(
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
      [...(query.bindings ?? []), JSON.stringify(options.suppressedKeys ?? [])],
    );
    const rows = result.rows as Array<Record<string, unknown>>;
    const first = rows[0] ?? { _total: 0, _suppressed: 0 };
    return {
      count: Number(first._total),
      suppressed: Number(first._suppressed),
      samples: rows.filter((row) => row.key !== null && row.key !== undefined).map(asSample),
    };
  });
}

function fixableWhere(fixable: Fixable | undefined, fixed: boolean): { sql: string; bindings: Knex.RawBinding[] } {
  if (!fixable) return { sql: fixed ? 'true' : 'false', bindings: [] };
  return { sql: fixed ? `(${fixable.where})` : `not coalesce((${fixable.where}), false)`, bindings: [...(fixable.bindings ?? [])] };
}

/** The distinct targets of the finding rows a repair fixes (all of them when `fixable` is absent), sorted. */
export async function findingTargets(knex: Querier, query: FindingSql, fixable?: Fixable): Promise<TargetKey[]> {
  const where = fixableWhere(fixable, true);
  return withSettings(knex, query, async () => {
    const result = await knex.raw(`select distinct f.target from (${query.sql}) f where f.target is not null and ${where.sql}`, [
      ...(query.bindings ?? []),
      ...where.bindings,
    ]);
    return sortKeys((result.rows as Array<{ target: TargetKey }>).map((row) => normalise(row.target)));
  });
}

/** How many finding rows a repair leaves (those `fixable` does not cover). */
export async function countLeftOver(knex: Querier, query: FindingSql, fixable: Fixable): Promise<number> {
  const where = fixableWhere(fixable, false);
  return withSettings(knex, query, async () => {
    const result = await knex.raw(`select count(*) as n from (${query.sql}) f where ${where.sql}`, [
      ...(query.bindings ?? []),
      ...where.bindings,
    ]);
    return Number(result.rows[0].n);
  });
}

/** Every finding row (all columns), in sample order: the rows behind a repair plan's examples. */
export async function findingRows(knex: Querier, query: FindingSql, limit: number): Promise<Array<Record<string, unknown>>> {
  return withSettings(knex, query, async () => {
    const result = await knex.raw(`select * from (${query.sql}) f order by f.sort, f.key limit ${Math.max(0, Math.trunc(limit))}`, [
      ...(query.bindings ?? []),
    ]);
    return result.rows as Array<Record<string, unknown>>;
  });
}

export { asSample };

function normalise(key: TargetKey): TargetKey {
  return typeof key === 'string' && /^\d+$/.test(key) ? Number(key) : key;
}

export function sortKeys(keys: readonly TargetKey[]): TargetKey[] {
  return [...new Set(keys)].sort((a, b) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b)),
  );
}
